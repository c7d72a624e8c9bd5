/**
 * convertModelTokenizer: gives a model directory whose tokenizer is remote code over a `tokenizer.model` (ChatGLM3's
 * SentencePiece ChatGLMTokenizer) the tokenizer.json + tokenizer_config.json every other GLM directory has, once, so
 * loading never runs a converter and the grammar compiler reads one vocabulary format. `autoglm model convert` runs it.
 * GLM-4-9B-chat's tiktoken-style tokenizer.model is recognised and refused with the alternative named.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TokenizerError } from '../../errors';
import { convertChatGlm3Tokenizer, type ChatGlm3SpecialToken } from './chatglm-tokenizer-conversion';

export interface ConvertModelTokenizerOptions {
  /** Replace an existing tokenizer.json (and convert again from tokenizer.model). Defaults to false. */
  overwrite?: boolean;
}

export interface ConvertModelTokenizerResult {
  directory: string;
  /** The tokenizer class converted from (`ChatGLMTokenizer`). */
  from: string;
  /** Files written, relative to the directory. */
  written: string[];
  /** Ids of the special tokens the tokenizer's code appends. */
  specialTokens: Record<ChatGlm3SpecialToken, number>;
}

/** Tokenizer classes this conversion knows, and how their tokenizer.model is read. */
const CONVERTIBLE = new Set(['ChatGLMTokenizer']);

/** Converts the tokenizer of the model directory `directory` in place (see the module comment). */
export async function convertModelTokenizer(directory: string, options: ConvertModelTokenizerOptions = {}): Promise<ConvertModelTokenizerResult> {
  const dir = path.resolve(directory);
  const configFile = path.join(dir, 'tokenizer_config.json');
  const modelFile = path.join(dir, 'tokenizer.model');
  const jsonFile = path.join(dir, 'tokenizer.json');
  for (const file of [configFile, modelFile]) {
    if (!existsSync(file)) {
      throw new TokenizerError(`Cannot convert the tokenizer of ${dir}: ${path.basename(file)} is missing. A ChatGLM3 directory holds tokenizer.model and tokenizer_config.json.`, {
        details: { directory: dir, file },
      });
    }
  }
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new TokenizerError(`${configFile} is not readable JSON: ${(cause as Error).message}`, { cause, details: { file: configFile } });
  }
  const converted = config.autoglm_converted_from as { tokenizer_class?: unknown } | undefined;
  const tokenizerClass = String(converted?.tokenizer_class ?? config.tokenizer_class ?? '');
  if (existsSync(jsonFile) && !options.overwrite) {
    throw new TokenizerError(`${jsonFile} exists already${converted ? ' (converted before)' : ''}; pass overwrite (--force) to convert ${modelFile} again.`, {
      details: { directory: dir, file: jsonFile },
    });
  }
  if (!CONVERTIBLE.has(tokenizerClass)) {
    throw new TokenizerError(
      `${configFile}: tokenizer_class '${tokenizerClass || '(none)'}' has no conversion here; only ChatGLM3's ChatGLMTokenizer (SentencePiece tokenizer.model) is converted.`,
      { details: { file: configFile, field: 'tokenizer_class', value: tokenizerClass } },
    );
  }
  const bytes = readFileSync(modelFile);
  if (looksLikeTiktoken(bytes)) {
    throw new TokenizerError(
      `${modelFile} is a tiktoken-style vocabulary (base64 token and rank per line), GLM-4-9B-chat's; it is not converted yet. Use THUDM/glm-4-9b-chat-hf, which ships tokenizer.json.`,
      { details: { file: modelFile, field: 'format', value: 'tiktoken' } },
    );
  }
  // On a second conversion the saved original class stands in for the converted one.
  const original = converted ? { ...config, tokenizer_class: tokenizerClass } : config;
  const result = convertChatGlm3Tokenizer(bytes, original, modelFile);
  await writeFile(jsonFile, JSON.stringify(result.tokenizerJson));
  await writeFile(configFile, `${JSON.stringify(result.tokenizerConfig, null, 2)}\n`);
  return { directory: dir, from: tokenizerClass, written: ['tokenizer.json', 'tokenizer_config.json'], specialTokens: result.specialTokens };
}

/** tiktoken files are text lines `<base64> <rank>`; a SentencePiece model is a binary protobuf. */
function looksLikeTiktoken(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 4096)).toString('latin1').split('\n').slice(0, 8).filter((line) => line.length > 0);
  return head.length > 0 && head.every((line) => /^[A-Za-z0-9+/]+=*\s+\d+$/.test(line));
}
