/**
 * config.json (and generation_config.json) of a GLM model directory, validated with zod and resolved into the
 * numbers the engine needs.
 */
import { z } from 'zod';
import { ModelFormatError } from '../errors';
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
  if (modelType === 'chatglm') {
    throw new ModelFormatError(
      `${configFile}: model_type 'chatglm' (ChatGLM3 / GLM-4-9B-chat remote-code checkpoints) is recognised but not yet ` +
        `supported. Use a 'glm' or 'glm4' export (for GLM-4-9B-chat, its '-hf' conversion).`,
      { details: { file: configFile, field: 'model_type', value: modelType } },
    );
  }
  const parsed = glmConfigSchema.safeParse(configJson);
  if (!parsed.success) throw zodFailure(parsed.error, configFile);
  const config = parsed.data;

  const heads = config.num_attention_heads;
  const kvHeads = config.num_key_value_heads ?? heads;
  if (heads % kvHeads !== 0) {
    throw inconsistent(configFile, 'num_key_value_heads', `num_attention_heads (${heads}) is not divisible by num_key_value_heads (${kvHeads})`);
  }
  let headDim = config.head_dim;
  if (headDim === undefined) {
    if (config.hidden_size % heads !== 0) {
      throw inconsistent(configFile, 'head_dim', `head_dim is absent and hidden_size (${config.hidden_size}) is not divisible by num_attention_heads (${heads})`);
    }
    headDim = config.hidden_size / heads;
  }

  let generation: z.infer<typeof generationConfigSchema> = {};
  if (generationConfigJson !== undefined) {
    const parsedGeneration = generationConfigSchema.safeParse(generationConfigJson);
    if (!parsedGeneration.success) throw zodFailure(parsedGeneration.error, generationConfigFile);
    generation = parsedGeneration.data;
  }
  const eosTokenIds = [...new Set([...asList(config.eos_token_id), ...asList(generation.eos_token_id)])];
  if (eosTokenIds.length === 0) {
    throw inconsistent(configFile, 'eos_token_id', 'no eos_token_id in config.json or generation_config.json');
  }
  for (const id of eosTokenIds) {
    if (id >= config.vocab_size) {
      throw inconsistent(configFile, 'eos_token_id', `eos token id ${id} is outside vocab_size ${config.vocab_size}`);
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
      family: config.model_type,
      vocabSize: config.vocab_size,
      contextLength: config.max_position_embeddings,
      layers: config.num_hidden_layers,
      heads,
      kvHeads,
      headDim,
      hiddenSize: config.hidden_size,
      eosTokenIds,
    },
    padTokenId: config.pad_token_id ?? undefined,
    generationDefaults,
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
