/**
 * `autoglm/server`: the OpenAI-compatible API and the runs API on Fastify, for embedding (`autoglm serve` is the
 * command). A subpath of its own so `import 'autoglm'` never loads Fastify.
 */
export { createServer, type AutoglmServer } from './create-server';
export type { CreateServerOptions } from './server-options';
export { StaticModelProvider, type ModelProvider, type ProvidedModel } from './model-provider';
export type { RunsOptions } from './runs/runs-options';
export { fromOpenAiToolName, toOpenAiToolName } from './openai/tool-names';
