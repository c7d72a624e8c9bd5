/**
 * `autoglm/server`: the OpenAI-compatible API and the runs API on Fastify, for embedding (`autoglm serve` is the
 * command). A subpath of its own so `import 'autoglm'` never loads Fastify.
 */
export { createServer, type AutoglmServer } from './create-server';
export type { CreateServerOptions } from './server-options';
export { StaticModelProvider, type ModelProvider, type ProvidedModel } from './model-provider';
export type { RunsOptions } from './runs/runs-options';
export { fromOpenAiToolName, toOpenAiToolName } from './openai/tool-names';
// operations: hot update and rollback (the registry is also exported from 'autoglm'), the --watch models file
export { ModelRegistry } from './model-registry';
export { ModelsFileWatcher, readModelsFile, type ModelsFileWatcherOptions, type ModelsFileOutcome } from './models-file-watcher';
