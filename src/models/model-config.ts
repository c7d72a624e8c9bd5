/**
 * config.json (and generation_config.json) of a GLM model directory (`glm`, `glm4`, or the remote-code `chatglm`
 * of ChatGLM3 / GLM-4-9B-chat), validated with zod and resolved into the numbers the engine needs.
 */
import { z } from 'zod';
import { ModelFormatError } from '../errors';
import { parseChatGlmConfig } from './chatglm-config';
import type { ModelInfo } from './language-model';

const tokenIds = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]);

const glmConfigSchema = z.object({
  model_type: z.enum(['glm', 'glm4']),
  vocab_size: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().optional(),
  head_dim: z.number().int().positive().optional(),
  max_position_embeddings: z.number().int().positive(),
  eos_token_id: tokenIds.optional(),
  pad_token_id: z.number().int().nonnegative().nullish(),
});

const generationConfigSchema = z
  .object({
    eos_token_id: tokenIds.optional(),
    temperature: z.number().nonnegative().optional(),
    top_p: z.number().optional(),
    top_k: z.number().int().optional(),
    do_sample: z.boolean().optional(),
    max_length: z.number().int().optional(),
    repetition_penalty: z.number().optional(),
  })
  .loose();

/** Sampling defaults a model directory brings in generation_config.json. */
export interface GenerationDefaults {
  temperature?: number;
  topP?: number;
  topK?: number;
  repetitionPenalty?: number;
}

/** config.json resolved: the public ModelInfo plus sampling defaults. */
export interface ModelConfig {
  info: ModelInfo;
  padTokenId: number | undefined;
  generationDefaults: GenerationDefaults;
}

/**
 * Validates config.json (and, when given, generation_config.json) and resolves them. `configFile` names the file
 * in error messages. Throws ModelFormatError naming the file and the field.
 */
export function parseModelConfig(
  configJson: unknown,
  configFile: string,
  generationConfigJson?: unknown,
  generationConfigFile = 'generation_config.json',
): ModelConfig {
  if (typeof configJson !== 'object' || configJson === null || Array.isArray(configJson)) {
    throw new ModelFormatError(`${configFile} must hold a JSON object.`, { details: { file: configFile } });
  }
  const modelType = (configJson as { model_type?: unknown }).model_type;
  const config = modelType === 'chatglm' ? fromChatGlm(configJson, configFile) : parseGlmConfig(configJson, configFile);
  const { heads, kvHeads, headDim } = config;
  if (heads % kvHeads !== 0) {
    throw inconsistent(configFile, config.kvHeadsField, `num_attention_heads (${heads}) is not divisible by ${config.kvHeadsField} (${kvHeads})`);
  }

  let generation: z.infer<typeof generationConfigSchema> = {};
  if (generationConfigJson !== undefined) {
    const parsedGeneration = generationConfigSchema.safeParse(generationConfigJson);
    if (!parsedGeneration.success) throw zodFailure(parsedGeneration.error, generationConfigFile);
    generation = parsedGeneration.data;
  }
  const eosTokenIds = [...new Set([...asList(config.eosTokenId), ...asList(generation.eos_token_id)])];
  if (eosTokenIds.length === 0) {
    throw inconsistent(configFile, 'eos_token_id', 'no eos_token_id in config.json or generation_config.json');
  }
  for (const id of eosTokenIds) {
    if (id >= config.vocabSize) {
      throw inconsistent(configFile, 'eos_token_id', `eos token id ${id} is outside ${config.vocabField} ${config.vocabSize}`);
    }
  }

  const generationDefaults: GenerationDefaults = {};
  // As in Hugging Face: sampling settings count only with do_sample (whose default is greedy).
  if (generation.do_sample === true) generationDefaults.temperature = generation.temperature ?? 1;
  if (generation.top_p !== undefined) generationDefaults.topP = generation.top_p;
  if (generation.top_k !== undefined) generationDefaults.topK = generation.top_k;
  if (generation.repetition_penalty !== undefined) generationDefaults.repetitionPenalty = generation.repetition_penalty;

  return {
    info: {
      family: config.family,
      vocabSize: config.vocabSize,
      contextLength: config.contextLength,
      layers: config.layers,
      heads,
      kvHeads,
      headDim,
      hiddenSize: config.hiddenSize,
      eosTokenIds,
    },
    padTokenId: config.padTokenId,
    generationDefaults,
  };
}

/** The fields every family's config.json resolves to, with the file's own names of two of them for messages. */
interface CommonConfig {
  family: ModelInfo['family'];
  vocabSize: number;
  vocabField: string;
  hiddenSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  kvHeadsField: string;
  headDim: number;
  contextLength: number;
  eosTokenId: number | number[] | undefined;
  padTokenId: number | undefined;
}

function parseGlmConfig(configJson: object, configFile: string): CommonConfig {
  const parsed = glmConfigSchema.safeParse(configJson);
  if (!parsed.success) throw zodFailure(parsed.error, configFile);
  const config = parsed.data;
  const heads = config.num_attention_heads;
  let headDim = config.head_dim;
  if (headDim === undefined) {
    if (config.hidden_size % heads !== 0) {
      throw inconsistent(configFile, 'head_dim', `head_dim is absent and hidden_size (${config.hidden_size}) is not divisible by num_attention_heads (${heads})`);
    }
    headDim = config.hidden_size / heads;
  }
  return {
    family: config.model_type,
    vocabSize: config.vocab_size,
    vocabField: 'vocab_size',
    hiddenSize: config.hidden_size,
    layers: config.num_hidden_layers,
    heads,
    kvHeads: config.num_key_value_heads ?? heads,
    kvHeadsField: 'num_key_value_heads',
    headDim,
    contextLength: config.max_position_embeddings,
    eosTokenId: config.eos_token_id,
    padTokenId: config.pad_token_id ?? undefined,
  };
}

function fromChatGlm(configJson: object, configFile: string): CommonConfig {
  const config = parseChatGlmConfig(configJson, configFile);
  return {
    family: 'chatglm',
    vocabSize: config.vocabSize,
    vocabField: 'padded_vocab_size',
    hiddenSize: config.hiddenSize,
    layers: config.layers,
    heads: config.heads,
    kvHeads: config.kvHeads,
    kvHeadsField: 'multi_query_group_num',
    headDim: config.headDim,
    contextLength: config.contextLength,
    eosTokenId: config.eosTokenId,
    padTokenId: config.padTokenId,
  };
}

function asList(value: number | number[] | undefined): number[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function inconsistent(file: string, field: string, what: string): ModelFormatError {
  return new ModelFormatError(`${file}: ${what}. Fix the field '${field}'.`, { details: { file, field } });
}

function zodFailure(error: z.ZodError, file: string): ModelFormatError {
  const issue = error.issues[0];
  const field = issue?.path.join('.') || '(root)';
  const missing = issue?.code === 'invalid_type' && issue.message.includes('undefined');
  const what = missing ? `missing required field '${field}'` : `invalid field '${field}': ${issue?.message}`;
  return new ModelFormatError(`${file}: ${what}.`, {
    details: { file, field, issues: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
  });
}
