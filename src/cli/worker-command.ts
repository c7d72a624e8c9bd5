/**
 * `autoglm worker --redis URL`: takes workflow steps from BullMQ queues in Redis and runs them with the built-in
 * tools, the given plugins and the given models, until SIGTERM or SIGINT (then it finishes its running steps).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { destination, pino } from 'pino';
import { UsageError } from '../errors';
import type { GlmModel } from '../models/glm-model';
import { documentTools } from '../tools/documents/document-tools';
import { fileTools } from '../tools/file-tools';
import { financeTools } from '../tools/finance/key-figures-tool';
import { pdfTools } from '../tools/pdf';
import { ToolRegistry } from '../tools/tool-registry';
import { BullmqStepWorker, type WorkerModel } from '../workflows/executors/bullmq-step-worker';
import { checkModelName } from '../workflows/executors/redis-connection';
import { createWorkflowAgentRunner } from '../workflows/workflow-agent-runner';
import { waitForStopSignal } from './wait-for-stop-signal';
import { exitCodes, type CliContext } from './cli-context';
import { integerOption, parseCommandLine, sequencesOption } from './parse-command-line';

export const workerHelp = `Usage: autoglm worker --redis URL [options]

Runs workflow steps that \`autoglm run --redis URL\` (or Workflow.run({ executor: new BullmqExecutor(...) }))
submits: tool steps from the "tools" queue, and the steps of each model it has from that model's queue. Start
any number of workers on any machines that reach the Redis. See docs/scale-out.md.

Options:
  --redis URL              Redis to take steps from: redis://[user:password@]host:port[/db], rediss:// for TLS (required)
  --model NAME=DIR         A model this worker runs NAME's steps on (repeatable); runs name it with --model NAME
  --plugin SPEC            Load a tool plugin (package name or file path; repeatable). Runs must load the same
  --root DIR               A folder tools may read (repeatable; default: the working directory)
  --out DIR                A folder tool steps may write in (default: none, tools cannot write)
  --concurrency N          Tool steps at once (default 4; model steps: as many as the model runs sequences)
  --sequences N            Generations each model runs at once, batched; its steps run that many at once (default:
                           up to 8 by memory for quantized models, 1 for float weights)
  --lock-duration MS       A job's lock: a killed worker's step is taken over after about this long (default 30000)
  --stalled-interval MS    How often this worker looks for steps of killed workers (default 30000)
  --prefix P               Redis key prefix, the same as the runs' (default autoglm)
  --log-level LEVEL        pino log lines on stderr: step takeovers after a lost worker, connection errors
                           (warn, the default), each step (debug), or none (silent)
  -h, --help               Show this help

When ready it prints "worker ready" to stderr. SIGTERM or SIGINT stop it after its running steps end.`;

function parseModelOption(value: string): { name: string; directory: string } {
  const equals = value.indexOf('=');
  if (equals <= 0 || equals === value.length - 1) throw new UsageError(`worker: --model expects NAME=DIR, got "${value}".`);
  const name = value.slice(0, equals);
  try {
    checkModelName(name, 'worker: --model');
  } catch (cause) {
    throw new UsageError((cause as Error).message, { cause });
  }
  return { name, directory: value.slice(equals + 1) };
}

export async function workerCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseCommandLine('worker', args, {
    redis: { type: 'string' },
    model: { type: 'string', multiple: true },
    plugin: { type: 'string', multiple: true },
    root: { type: 'string', multiple: true },
    out: { type: 'string' },
    concurrency: { type: 'string' },
    sequences: { type: 'string' },
    'lock-duration': { type: 'string' },
    'stalled-interval': { type: 'string' },
    prefix: { type: 'string' },
    'log-level': { type: 'string' },
  });
  if (values.help) {
    context.stdout.write(`${workerHelp}\n`);
    return exitCodes.ok;
  }
  if (positionals.length > 0) throw new UsageError(`worker: takes no positional arguments, got ${positionals.join(' ')}.`);
  if (values.redis === undefined) throw new UsageError('worker: --redis URL is required (redis://host:6379).');
  const concurrency = integerOption('worker', 'concurrency', values.concurrency);
  const sequences = sequencesOption('worker', values.sequences);
  const lockDuration = integerOption('worker', 'lock-duration', values['lock-duration']);
  const stalledInterval = integerOption('worker', 'stalled-interval', values['stalled-interval']);
  const levels = ['silent', 'error', 'warn', 'info', 'debug'];
  const level = values['log-level'] ?? 'warn';
  if (!levels.includes(level)) throw new UsageError(`worker: --log-level must be one of ${levels.join(', ')}, got "${level}".`);
  const logger = pino({ level, name: 'autoglm-worker' }, destination(2));
  const modelOptions = (values.model ?? []).map(parseModelOption);
  const duplicate = modelOptions.find((option, index) => modelOptions.findIndex((other) => other.name === option.name) !== index);
  if (duplicate !== undefined) throw new UsageError(`worker: --model ${duplicate.name} is given twice.`);

  const roots = (values.root ?? [context.cwd]).map((root) => path.resolve(context.cwd, root));
  const outDir = values.out === undefined ? undefined : path.resolve(context.cwd, values.out);
  if (outDir !== undefined) await mkdir(outDir, { recursive: true });
  const allRoots = outDir === undefined ? roots : [...roots, outDir];
  const tools = new ToolRegistry([...pdfTools, ...financeTools, ...documentTools, ...fileTools], {
    roots: allRoots,
    ...(outDir === undefined ? {} : { writeRoots: [outDir], allowWrites: true }),
  });
  for (const plugin of values.plugin ?? []) await tools.use(plugin);

  const loaded: GlmModel[] = [];
  let worker: BullmqStepWorker | undefined;
  try {
    const models: Record<string, WorkerModel> = {};
    // Imported on use: a tools-only worker starts without loading ONNX Runtime (takeover after a crash waits on it).
    const { GlmModel } = modelOptions.length === 0 ? { GlmModel: undefined } : await import('../models/glm-model');
    for (const { name, directory } of modelOptions) {
      const model = await GlmModel!.load(path.resolve(context.cwd, directory), { executionProvider: 'cpu', ...sequences });
      loaded.push(model);
      // Agents get read-only tools, as in `autoglm run`.
      const readOnly = new ToolRegistry([...pdfTools, ...financeTools, ...documentTools, ...fileTools.filter((tool) => tool.name !== 'files.write')], { roots: allRoots, model });
      models[name] = { model, agents: createWorkflowAgentRunner({ model, files: tools.files, tools: readOnly }) };
    }
    worker = new BullmqStepWorker({
      connection: values.redis,
      tools,
      models,
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(lockDuration === undefined ? {} : { lockDuration }),
      ...(stalledInterval === undefined ? {} : { stalledInterval }),
      ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
      logger,
    });
    await worker.waitUntilReady();
    context.stderr.write(`autoglm worker: worker ready (pid ${process.pid}), queues ${worker.queues.join(', ')}\n`);
    await waitForStopSignal();
    context.stderr.write('autoglm worker: stopping after the running steps\n');
    return exitCodes.ok;
  } finally {
    await worker?.close();
    for (const model of loaded) await model.dispose();
  }
}
