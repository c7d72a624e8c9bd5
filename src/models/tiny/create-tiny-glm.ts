/**
 * createTinyGlm: writes a complete GLM model directory with random weights in the Optimum / transformers.js layout
 * (GLM.md section 3), or onnxruntime-genai's with `attention: 'gqa'`, so the engine, its tests and benchmarks need
 * no download.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TokenizerError } from '../../errors';
import { chatGlmConfigJson, chatGlmPaddedVocab, chatGlmTinyTokenizer } from './chatglm-tiny-files';
import { tinyChatTemplate } from './glm-chat-template';
import { buildGlmOnnxGraph, glmParameters } from './glm-onnx-graph';
import { writeOnnxModel } from './write-onnx-model';
import { resolveTinyGlmOptions, type ResolvedTinyGlmOptions, type TinyGlmOptions } from './tiny-glm-options';
import { GLM_SPECIAL_TOKENS, buildTinyTokenizer, extendTokenizer, type BuiltTokenizer, type GlmSpecialToken, type TokenizerJson } from './tiny-tokenizer';

/** What createTinyGlm wrote. */
export interface TinyGlmInfo {
  /** The model directory (absolute). */
  directory: string;
  /**
   * The graph (absolute): `onnx/model.onnx` (`onnx/model_q4.onnx` with int4), or `model.onnx` for the `gqa`
   * (onnxruntime-genai) layout.
   */
  modelPath: string;
  /** `<graph>_data` (`model.onnx.data` for `gqa`), absolute, when the weights are external, else undefined. */
  externalDataPath: string | undefined;
  /** The options with every default applied. */
  options: ResolvedTinyGlmOptions;
  /** The config.json written. */
  config: Record<string, unknown>;
  /** Ids of the GLM special tokens in this tokenizer. */
  specialTokens: Record<GlmSpecialToken, number>;
  /** `<|endoftext|>`, `<|user|>`, `<|observation|>`, as in GLM-4's generation_config. */
  eosTokenIds: number[];
  padTokenId: number;
  /** Ids the tokenizer can produce (highest id + 1); at most `options.vocab`. */
  tokenizerSize: number;
  /** Parameters (weights) in the model. */
  parameterCount: number;
  /** Bytes of the ONNX file plus its external data. */
  onnxBytes: number;
  /** Every file written, relative to `directory`. */
  files: string[];
}

/** protobuf cannot hold a message of 2 GB or more; keep a margin for the graph itself. */
const INLINE_LIMIT_BYTES = 2 ** 31 - 64 * 2 ** 20;

/** Writes a tiny GLM model directory at `dir` (created if missing; existing files are overwritten). */
export async function createTinyGlm(dir: string, options: TinyGlmOptions = {}): Promise<TinyGlmInfo> {
  const chatglm = options.family === 'chatglm' ? chatGlmTinyTokenizer() : undefined;
  const tokenizer = chatglm?.built ?? (await loadTokenizer(options, options.family === 'glm4' ? 'glm4' : 'glm'));
  const resolved = resolveTinyGlmOptions(
    chatglm && options.vocab === undefined ? { ...options, vocab: chatGlmPaddedVocab(tokenizer.size) } : options,
    tokenizer.size,
  );
  const directory = path.resolve(dir);
  await mkdir(resolved.attention === 'gqa' ? directory : path.join(directory, 'onnx'), { recursive: true });

  const parameters = glmParameters(resolved);
  const parameterCount = parameters.reduce((sum, p) => sum + p.dims.reduce((product, dim) => product * dim, 1), 0);
  const weightBytes = parameters.reduce((sum, p) => {
    const count = p.dims.reduce((product, dim) => product * dim, 1);
    // int4: half a byte per weight plus one float scale per block.
    const int4 = resolved.quantization === 'int4' && p.kind === 'linear';
    const floatBytes = resolved.dtype === 'fp16' ? 2 : 4;
    return sum + (int4 ? count / 2 + (count / resolved.quantizationBlockSize) * floatBytes : count * floatBytes);
  }, 0);
  // int4 with tied embeddings adds an int4 lm_head beside the float embedding (see TinyGlmOptions.quantization).
  const int4LmHeadBytes =
    resolved.quantization === 'int4' && resolved.tieWordEmbeddings
      ? (resolved.vocab * resolved.hiddenSize) / 2 + ((resolved.vocab * resolved.hiddenSize) / resolved.quantizationBlockSize) * (resolved.dtype === 'fp16' ? 2 : 4)
      : 0;
  const external = resolved.externalData === 'auto' ? weightBytes + int4LmHeadBytes > INLINE_LIMIT_BYTES : resolved.externalData;

  const specialTokens = tokenizer.specialTokens;
  // ChatGLM3 stops on </s>, <|user|> and <|observation|> (its chat() adds the two role ids to eos).
  const eosTokenIds = [specialTokens['<|endoftext|>'], specialTokens['<|user|>'], specialTokens['<|observation|>']];
  const padTokenId = chatglm?.padTokenId ?? specialTokens['<|endoftext|>'];
  const config = chatglm ? chatGlmConfigJson(resolved, chatglm.eosTokenId, padTokenId) : glmConfigJson(resolved, eosTokenIds, padTokenId, external);
  const generationConfig = {
    _from_model_config: false,
    eos_token_id: eosTokenIds,
    pad_token_id: padTokenId,
    do_sample: false,
    ...resolved.generationConfig,
  };
  const tokenizerConfig = chatglm?.tokenizerConfig ?? tokenizerConfigJson(resolved, tokenizer);

  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  await writeFile(path.join(directory, 'config.json'), json(config));
  await writeFile(path.join(directory, 'generation_config.json'), json(generationConfig));
  await writeFile(path.join(directory, 'tokenizer.json'), JSON.stringify(tokenizer.json));
  await writeFile(path.join(directory, 'tokenizer_config.json'), json(tokenizerConfig));
  if (chatglm) await writeFile(path.join(directory, 'tokenizer.model'), chatglm.modelBytes);

  // Optimum keeps the graph in onnx/ with `<file>_data`; onnxruntime-genai keeps it beside genai_config.json with
  // `<file>.data`.
  const genai = resolved.attention === 'gqa';
  // The Optimum / transformers.js file suffixes (GLM.md section 3).
  const suffix = { fp32: { none: '', int4: '_q4' }, fp16: { none: '_fp16', int4: '_q4f16' } }[resolved.dtype][resolved.quantization];
  const modelFile = genai ? 'model.onnx' : `onnx/model${suffix}.onnx`;
  const dataFile = genai ? 'model.onnx.data' : `onnx/model${suffix}.onnx_data`;
  const modelPath = path.join(directory, modelFile);
  const externalDataPath = external ? path.join(directory, dataFile) : undefined;
  const graph = buildGlmOnnxGraph(resolved);
  const { bytes } = await writeOnnxModel(graph, {
    modelPath,
    externalData: externalDataPath ? { path: externalDataPath, location: path.basename(externalDataPath) } : undefined,
  });

  const files = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];
  if (chatglm) files.push('tokenizer.model');
  if (!chatglm && resolved.chatTemplateFile === 'jinja') {
    await writeFile(path.join(directory, 'chat_template.jinja'), tinyChatTemplate(resolved.chatTemplate, resolved.family === 'glm4' ? 'glm4' : 'glm'));
    files.push('chat_template.jinja');
  }
  if (genai) {
    // The builder writes config.json's eos (ChatGLM3: </s> alone) and, for chatglm, bos 1.
    const genaiEos = chatglm ? chatglm.eosTokenId : eosTokenIds;
    await writeFile(path.join(directory, 'genai_config.json'), json(genaiConfigJson(resolved, genaiEos, padTokenId, modelFile)));
    files.push('genai_config.json');
  }
  files.push(modelFile);
  if (external) files.push(dataFile);
  return {
    directory,
    modelPath,
    externalDataPath,
    options: resolved,
    config,
    specialTokens,
    eosTokenIds,
    padTokenId,
    tokenizerSize: tokenizer.size,
    parameterCount,
    onnxBytes: bytes,
    files,
  };
}

async function loadTokenizer(options: TinyGlmOptions, family: 'glm' | 'glm4'): Promise<BuiltTokenizer> {
  if (options.tokenizer === undefined) return buildTinyTokenizer({ glmPrefix: family === 'glm4' });
  let text: string;
  try {
    text = await readFile(options.tokenizer, 'utf8');
  } catch (cause) {
    throw new TokenizerError(`createTinyGlm: cannot read the tokenizer file ${options.tokenizer}; pass the path of an existing tokenizer.json.`, {
      cause,
      details: { file: options.tokenizer },
    });
  }
  let parsed: TokenizerJson;
  try {
    parsed = JSON.parse(text) as TokenizerJson;
  } catch (cause) {
    throw new TokenizerError(`createTinyGlm: ${options.tokenizer} is not valid JSON; pass a Hugging Face tokenizer.json.`, {
      cause,
      details: { file: options.tokenizer },
    });
  }
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.model !== 'object') {
    throw new TokenizerError(`createTinyGlm: ${options.tokenizer} has no "model" section; pass a Hugging Face tokenizer.json.`, {
      details: { file: options.tokenizer },
    });
  }
  return extendTokenizer(parsed);
}

function glmConfigJson(
  options: ResolvedTinyGlmOptions,
  eosTokenIds: number[],
  padTokenId: number,
  external: boolean,
): Record<string, unknown> {
  const config: Record<string, unknown> = {
    architectures: [options.family === 'glm4' ? 'Glm4ForCausalLM' : 'GlmForCausalLM'],
    model_type: options.family,
    vocab_size: options.vocab,
    hidden_size: options.hiddenSize,
    intermediate_size: options.intermediateSize,
    num_hidden_layers: options.layers,
    num_attention_heads: options.heads,
    num_key_value_heads: options.kvHeads,
    head_dim: options.headDim,
    partial_rotary_factor: options.partialRotaryFactor,
    rope_theta: options.ropeTheta,
    rms_norm_eps: options.rmsNormEps,
    max_position_embeddings: options.maxPositionEmbeddings,
    attention_bias: options.attentionBias,
    attention_dropout: 0,
    hidden_act: 'silu',
    initializer_range: 0.02,
    tie_word_embeddings: options.tieWordEmbeddings,
    use_cache: true,
    pad_token_id: padTokenId,
    eos_token_id: eosTokenIds,
    bos_token_id: null,
    torch_dtype: options.dtype === 'fp16' ? 'float16' : 'float32',
    transformers_version: '4.51.3',
  };
  const transformersJs: Record<string, unknown> = {};
  // transformers.js picks `onnx/model_q4.onnx` (and the others) by default only when told the dtype.
  const dtype = { fp32: { none: undefined, int4: 'q4' }, fp16: { none: 'fp16', int4: 'q4f16' } }[options.dtype][options.quantization];
  if (dtype) transformersJs.dtype = dtype;
  if (external) transformersJs.use_external_data_format = true;
  if (Object.keys(transformersJs).length > 0) config['transformers.js_config'] = transformersJs;
  return config;
}

function tokenizerConfigJson(options: ResolvedTinyGlmOptions, tokenizer: BuiltTokenizer): Record<string, unknown> {
  const addedTokensDecoder: Record<string, unknown> = {};
  for (const token of tokenizer.json.added_tokens) {
    const { id, ...rest } = token;
    addedTokensDecoder[String(id)] = rest;
  }
  return {
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: GLM_SPECIAL_TOKENS.filter((token) => token !== '<|endoftext|>'),
    bos_token: null,
    eos_token: '<|endoftext|>',
    pad_token: '<|endoftext|>',
    ...(options.chatTemplateFile === 'tokenizer_config' ? { chat_template: tinyChatTemplate(options.chatTemplate, options.family === 'glm4' ? 'glm4' : 'glm') } : {}),
    clean_up_tokenization_spaces: false,
    do_lower_case: false,
    model_input_names: ['input_ids', 'attention_mask'],
    model_max_length: options.maxPositionEmbeddings,
    padding_side: 'left',
    remove_space: false,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}

/** genai_config.json as onnxruntime-genai's model builder writes it for a decoder-only model. */
function genaiConfigJson(
  options: ResolvedTinyGlmOptions,
  eosTokenIds: number | number[],
  padTokenId: number,
  modelFile: string,
): Record<string, unknown> {
  const inputs: Record<string, string> = {
    input_ids: 'input_ids',
    attention_mask: 'attention_mask',
    past_key_names: 'past_key_values.%d.key',
    past_value_names: 'past_key_values.%d.value',
  };
  if (options.numLogitsToKeep) inputs.num_logits_to_keep = 'num_logits_to_keep';
  return {
    model: {
      bos_token_id: options.family === 'chatglm' ? 1 : padTokenId,
      context_length: options.maxPositionEmbeddings,
      decoder: {
        session_options: { log_id: 'onnxruntime-genai', provider_options: [] },
        filename: modelFile,
        head_size: options.headDim,
        hidden_size: options.hiddenSize,
        inputs,
        outputs: { logits: 'logits', present_key_names: 'present.%d.key', present_value_names: 'present.%d.value' },
        num_attention_heads: options.heads,
        num_hidden_layers: options.layers,
        num_key_value_heads: options.kvHeads,
      },
      eos_token_id: eosTokenIds,
      pad_token_id: padTokenId,
      type: options.family,
      vocab_size: options.vocab,
    },
    search: {
      diversity_penalty: 0,
      do_sample: false,
      early_stopping: true,
      length_penalty: 1,
      max_length: options.maxPositionEmbeddings,
      min_length: 0,
      no_repeat_ngram_size: 0,
      num_beams: 1,
      num_return_sequences: 1,
      past_present_share_buffer: options.pastPresentShareBuffer,
      repetition_penalty: 1,
      temperature: 1,
      top_k: 1,
      top_p: 1,
    },
  };
}
