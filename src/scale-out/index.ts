// autoglm/scale-out: workflow steps on BullMQ workers (Redis). Its own entry point, so that `import 'autoglm'`
// never loads bullmq and ioredis. See docs/scale-out.md.
export { BullmqExecutor, type BullmqExecutorOptions } from '../workflows/executors/bullmq-executor';
export { BullmqStepWorker, type BullmqStepWorkerOptions, type WorkerModel } from '../workflows/executors/bullmq-step-worker';
export type { RedisConnectionInput } from '../workflows/executors/redis-connection';
