/**
 * genai_config.json of the onnxruntime-genai layout (its model builder writes it beside `model.onnx`): the decoder
 * graph's file name, its input and output names, the context length and whether past and present share one
 * max-length buffer. Only what GlmModel needs is read; everything else in the file is left alone.
 */
import { z } from 'zod';
import { ModelFormatError } from '../errors';

/** Names of one decoder graph's inputs and outputs; `%d` in a KV name stands for the layer index. */
export interface DecoderIoNames {
  inputIds: string;
  attentionMask: string;
  /** Absent in GroupQueryAttention graphs, which rotate from the mask's lengths. */
  positionIds: string | undefined;
  pastKey: string;
  pastValue: string;
  logits: string;
  presentKey: string;
  presentValue: string;
}

export interface GenaiDecoderConfig {
  /**
   * `model.type`: the builder's family name (`chatglm` for ChatGLM3 / GLM-4-9B-chat, the only GLM family its model
   * builder exports), checked against config.json's model_type by {@link checkGenaiModelType}.
   */
  modelType: string | undefined;
  /** The graph's file name, relative to the model directory. */
  filename: string;
  names: DecoderIoNames;
  /** `search.past_present_share_buffer`: past and present KV are one max-length buffer per layer. */
  pastPresentShareBuffer: boolean;
  /** The longest sequence: the smaller of `model.context_length` and `search.max_length` (when given). */
  contextLength: number;
  layers: number;
  kvHeads: number;
  headDim: number;
}

const kvName = z.string().regex(/%d/, 'must contain %d (the layer index)');

const schema = z.object({
  model: z.object({
    type: z.string().min(1).optional(),
    context_length: z.number().int().positive(),
    decoder: z.object({
      filename: z.string().min(1).refine((name) => !/(^|[\\/])\.\.([\\/]|$)/.test(name) && !/^[\\/]/.test(name), 'must stay inside the model directory'),
      head_size: z.number().int().positive(),
      num_hidden_layers: z.number().int().positive(),
      num_key_value_heads: z.number().int().positive(),
      inputs: z.object({
        input_ids: z.string().min(1),
        attention_mask: z.string().min(1),
        position_ids: z.string().min(1).optional(),
        past_key_names: kvName,
        past_value_names: kvName,
      }),
      outputs: z.object({
        logits: z.string().min(1),
        present_key_names: kvName,
        present_value_names: kvName,
      }),
      pipeline: z.unknown().optional(),
    }),
  }),
  search: z
    .object({
      max_length: z.number().int().positive().optional(),
      past_present_share_buffer: z.boolean().optional(),
    })
    .optional(),
});

/** Validates a parsed genai_config.json (`file` names it in errors). Throws ModelFormatError naming the field. */
export function parseGenaiConfig(json: unknown, file: string): GenaiDecoderConfig {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.');
    throw new ModelFormatError(
      `${file}: field ${field || '(root)'} is invalid: ${issue.message}. GlmModel needs model.context_length and ` +
        'model.decoder.{filename, head_size, num_hidden_layers, num_key_value_heads, inputs, outputs} as onnxruntime-genai writes them.',
      { details: { file, field, issues: parsed.error.issues } },
    );
  }
  const { model, search } = parsed.data;
  const decoder = model.decoder;
  if (decoder.pipeline !== undefined) {
    throw new ModelFormatError(`${file}: model.decoder.pipeline (a decoder split over several graphs) is not supported; export one decoder graph.`, {
      details: { file, field: 'model.decoder.pipeline' },
    });
  }
  const maxLength = search?.max_length;
  return {
    modelType: model.type,
    filename: decoder.filename,
    names: {
      inputIds: decoder.inputs.input_ids,
      attentionMask: decoder.inputs.attention_mask,
      positionIds: decoder.inputs.position_ids,
      pastKey: decoder.inputs.past_key_names,
      pastValue: decoder.inputs.past_value_names,
      logits: decoder.outputs.logits,
      presentKey: decoder.outputs.present_key_names,
      presentValue: decoder.outputs.present_value_names,
    },
    pastPresentShareBuffer: search?.past_present_share_buffer ?? false,
    contextLength: maxLength === undefined ? model.context_length : Math.min(maxLength, model.context_length),
    layers: decoder.num_hidden_layers,
    kvHeads: decoder.num_key_value_heads,
    headDim: decoder.head_size,
  };
}

/** The Optimum / transformers.js names. */
export const OPTIMUM_IO_NAMES: DecoderIoNames = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  positionIds: 'position_ids',
  pastKey: 'past_key_values.%d.key',
  pastValue: 'past_key_values.%d.value',
  logits: 'logits',
  presentKey: 'present.%d.key',
  presentValue: 'present.%d.value',
};

/** A `%d` KV name for one layer. */
export function layerName(pattern: string, layer: number): string {
  return pattern.replace('%d', String(layer));
}

/** genai_config.json `model.type` values of the GLM families, by config.json model_type. */
const GENAI_TYPES: Readonly<Record<string, readonly string[]>> = { chatglm: ['chatglm'], glm: ['glm'], glm4: ['glm4'] };

/**
 * Throws when genai_config.json's `model.type` names another family than config.json's model_type (the two files
 * then come from different exports). A missing `model.type` passes: older builders did not always write it.
 */
export function checkGenaiModelType(genai: GenaiDecoderConfig, family: string, genaiFile: string, configFile: string): void {
  if (genai.modelType === undefined) return;
  const accepted = GENAI_TYPES[family] ?? [family];
  if (!accepted.includes(genai.modelType)) {
    throw new ModelFormatError(
      `${genaiFile}: model.type is '${genai.modelType}' but ${configFile} has model_type '${family}'. The two files describe different models; re-export them together.`,
      { details: { file: genaiFile, field: 'model.type', value: genai.modelType, expected: accepted } },
    );
  }
}
