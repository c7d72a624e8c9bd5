/**
 * Grammar-constrained decoding for one model: XGrammar's tokenizer info and compiler, built once from the model's
 * tokenizer.json, and a cache of compiled grammars. Each generation gets a fresh TokenConstraint.
 */
import { createHash } from 'node:crypto';
import type {
  CompiledGrammar,
  StructuralTagFormat,
  GrammarCompiler as XGrammarCompiler,
  TokenizerInfo,
} from '@mlc-ai/web-xgrammar';
import type { z } from 'zod';
import { GenerationError, TokenizerError } from '../../errors';
import type { TokenConstraint } from '../generation/token-constraint';
import { defaultChatFormat, isToolName, toolNameRule, type ChatFormat } from '../chat-format/chat-format';
import { chatGlm3CallGrammar } from '../chat-format/chatglm3-call-grammar';
import type { JsonSchema, ToolSpec } from '../language-model';
import { GrammarConstraint } from './grammar-constraint';
import { extractBoundedStrings, type StringBounds } from './bounded-strings';
import { StringBoundTracker, StringLengthMasks, type StringBoundTarget } from './string-bound-tracker';
import { extractNumberRanges, insertNumberRanges, toGrammarJsonSchema } from './grammar-json-schema';
import { readTokenizerVocabulary } from './tokenizer-vocabulary';
import { Utf8TokenMasks, vocabularyBytes } from './utf8-token-masks';
import { loadXGrammar, type XGrammarModule } from './xgrammar-loader';

export interface GrammarCompilerOptions {
  /** Size of the model's logits; ids from the tokenizer's size up to it (padding) are always masked. Required. */
  vocabSize: number;
  /** Token ids that end generation (eos, `<|user|>`, `<|observation|>` for GLM). Required, at least one. */
  stopTokenIds: number[];
  /** Compiled grammars kept (least recently used ones are released first). Defaults to 64. */
  maxCachedGrammars?: number;
}

/** What a generation's output must be. At least one of `schema` and `tools`. */
export interface ConstraintRequest {
  /**
   * JSON Schema or zod schema. Alone: the output is JSON valid for it. With `tools`: the schema of the answer branch
   * (`\n` then JSON valid for it) instead of free text.
   */
  schema?: JsonSchema | z.ZodType;
  /** Tools the output may call, GLM style: one tool name, `\n`, then JSON valid for its `parameters`. */
  tools?: ToolSpec[];
  /**
   * With `tools`: 'none' allows only the answer branch (`\n` then the answer), for a prompt that still shows the
   * tools but must end the run; 'required' only the calls. Defaults to 'auto' (a call or the answer).
   */
  toolChoice?: 'auto' | 'none' | 'required';
  /**
   * The model's chat format (see chat-format.ts): its `answerPrefix` opens the answer branch (`\n` after a bare
   * `<|assistant|>`; nothing where the generation prompt already wrote the newline) and its `callNameSeparator`
   * follows a tool's name. Defaults to the GLM-4 layout (defaultChatFormat).
   */
  format?: Pick<ChatFormat, 'answerPrefix' | 'callNameSeparator' | 'callArguments'>;
}

export interface GrammarCompilerStatistics {
  /** Grammars compiled (cache misses). */
  compilations: number;
  /** Requests served from the cache. */
  cacheHits: number;
  /** Compiled grammars held now. */
  cachedGrammars: number;
}

/** Compact JSON, one line, separators as Python's json.dumps (what GLM's chat template shows the model). */
const jsonSeparators: [string, string] = [', ', ': '];
/** The answer branch of a tool request without an output schema: the answer prefix, then any text. */
function freeTextAnswer(prefix: string): StructuralTagFormat {
  return { type: 'regex', pattern: `${regexLiteral(prefix)}[^\\x00]*` };
}

function regexLiteral(text: string): string {
  return Array.from(text, (char) => (char === '\n' ? '\\n' : /[!-/:-@[-`{-~]/.test(char) ? `\\${char}` : char)).join('');
}

export class GrammarCompiler {
  readonly #xgrammar: XGrammarModule;
  readonly #tokenizerInfo: TokenizerInfo;
  readonly #compiler: XGrammarCompiler;
  readonly #vocabSize: number;
  readonly #stopTokenIds: readonly number[];
  readonly #maxCachedGrammars: number;
  readonly #utf8Masks: Utf8TokenMasks;
  readonly #tokenBytes: Array<Uint8Array | undefined>;
  #bmpMasks: Utf8TokenMasks | undefined;
  #lengthMasks: StringLengthMasks | undefined;
  readonly #cache = new Map<string, Promise<CompiledEntry>>();
  #compilations = 0;
  #cacheHits = 0;
  #disposed = false;

  private constructor(
    xgrammar: XGrammarModule,
    tokenizerInfo: TokenizerInfo,
    compiler: XGrammarCompiler,
    options: Required<GrammarCompilerOptions>,
    tokenBytes: Array<Uint8Array | undefined>,
  ) {
    this.#xgrammar = xgrammar;
    this.#tokenizerInfo = tokenizerInfo;
    this.#compiler = compiler;
    this.#vocabSize = options.vocabSize;
    this.#stopTokenIds = [...options.stopTokenIds];
    this.#maxCachedGrammars = options.maxCachedGrammars;
    this.#tokenBytes = tokenBytes;
    this.#utf8Masks = new Utf8TokenMasks(tokenBytes, options.vocabSize);
  }

  /**
   * Builds XGrammar's tokenizer info (a few hundred ms for a 151k vocabulary) from a tokenizer.json (its text or the
   * parsed object). Do it once per model.
   */
  static async fromTokenizerJson(
    tokenizerJson: string | object,
    options: GrammarCompilerOptions,
  ): Promise<GrammarCompiler> {
    const resolved = resolveOptions(options);
    const vocabulary = readTokenizerVocabulary(tokenizerJson, resolved.stopTokenIds);
    const size = vocabulary.encodedVocabulary.length;
    if (size > resolved.vocabSize) {
      throw new TokenizerError(
        `GrammarCompiler: the tokenizer has ${size} ids but vocabSize is ${resolved.vocabSize}; ` +
          'vocabSize must be the size of the logits (config.json vocab_size), at least the tokenizer size.',
        { details: { tokenizerSize: size, vocabSize: resolved.vocabSize } },
      );
    }
    const outside = resolved.stopTokenIds.filter((id) => id >= size || vocabulary.encodedVocabulary[id] === '');
    if (outside.length > 0) {
      throw new TokenizerError(
        `GrammarCompiler: stop token ids ${outside.join(', ')} are not tokens of this tokenizer.json ` +
          `(it has ${size} ids); pass the model's eos ids.`,
        { details: { stopTokenIds: outside } },
      );
    }
    const xgrammar = await loadXGrammar();
    const tokenizerInfo = await xgrammar.TokenizerInfo.createTokenizerInfo(
      vocabulary.encodedVocabulary,
      vocabulary.vocabularyType,
      vocabulary.prependSpace,
      resolved.vocabSize,
      [...resolved.stopTokenIds],
    );
    // Our own cache bounds memory; XGrammar's would keep every grammar forever.
    const compiler = await xgrammar.GrammarCompiler.createGrammarCompiler(tokenizerInfo, false);
    const tokenBytes = vocabularyBytes(vocabulary.encodedVocabulary, vocabulary.vocabularyType);
    return new GrammarCompiler(xgrammar, tokenizerInfo, compiler, resolved, tokenBytes);
  }

  /** A fresh constraint for one generation; the grammar is compiled on first use of a request and then cached. */
  async createConstraint(request: ConstraintRequest): Promise<TokenConstraint> {
    this.#assertLive();
    const { grammar: compiled, bmpOnly, stringBounds } = await this.#compiled(request);
    this.#assertLive();
    if (bmpOnly) this.#bmpMasks ??= new Utf8TokenMasks(this.#tokenBytes, this.#vocabSize, { astral: false });
    if (stringBounds) this.#lengthMasks ??= new StringLengthMasks(this.#tokenBytes, this.#vocabSize);
    const binding = this.#xgrammar.binding();
    const matcher = new binding.GrammarMatcher(compiled.handle, undefined, false, -1);
    return new GrammarConstraint({
      matcher,
      binding,
      vocabSize: this.#vocabSize,
      stopTokenIds: this.#stopTokenIds,
      utf8Masks: bmpOnly ? this.#bmpMasks! : this.#utf8Masks,
      ...(stringBounds ? { stringBounds: { tracker: stringBounds, masks: this.#lengthMasks! } } : {}),
    });
  }

  get statistics(): GrammarCompilerStatistics {
    return { compilations: this.#compilations, cacheHits: this.#cacheHits, cachedGrammars: this.#cache.size };
  }

  /** Releases the compiled grammars and XGrammar's tokenizer info. Constraints already created keep working. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const entry of this.#cache.values()) void entry.then((entry) => entry.grammar.dispose(), () => undefined);
    this.#cache.clear();
    this.#compiler.dispose();
    this.#tokenizerInfo.dispose();
  }

  #assertLive(): void {
    if (this.#disposed) throw new GenerationError('GrammarCompiler used after dispose().');
  }

  #compiled(request: ConstraintRequest): Promise<CompiledEntry> {
    const normalized = normalizeRequest(request);
    const key = createHash('sha256').update(JSON.stringify(normalized)).digest('hex');
    const cached = this.#cache.get(key);
    if (cached) {
      this.#cacheHits++;
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      return cached;
    }
    this.#compilations++;
    const compiling = this.#compile(normalized);
    this.#cache.set(key, compiling);
    compiling.catch(() => this.#cache.delete(key));
    while (this.#cache.size > this.#maxCachedGrammars) {
      const [oldestKey, oldest] = this.#cache.entries().next().value as [string, Promise<CompiledEntry>];
      this.#cache.delete(oldestKey);
      // A matcher holds its own reference to the compiled grammar: releasing ours is safe.
      void oldest.then((entry) => entry.grammar.dispose(), () => undefined);
    }
    return compiling;
  }

  async #compile(request: NormalizedRequest): Promise<CompiledEntry> {
    const schemaJson = request.schema ? await this.#jsonGrammar(request.schema, 'schema') : undefined;
    const schemaGrammar = schemaJson?.ebnf;
    try {
      if (!request.tools) {
        const grammar = await this.#xgrammar.Grammar.fromEBNF(schemaGrammar!);
        try {
          return {
            grammar: await this.#compiler.compileGrammar(grammar),
            bmpOnly: hasBoundedStrings(schemaGrammar!),
            stringBounds: trackerFor({ schema: schemaJson!.bounds }),
          };
        } finally {
          grammar.dispose();
        }
      }
      const calls: StructuralTagFormat[] = [];
      let bmpOnly = schemaGrammar !== undefined && hasBoundedStrings(schemaGrammar);
      const toolBounds = new Map<string, StringBounds>();
      if (schemaJson) toolBounds.set('', schemaJson.bounds);
      for (const tool of request.branches === 'answer' ? [] : request.tools) {
        const json = await this.#jsonGrammar(tool.parameters, `tool "${tool.name}" parameters`);
        const parameters = json.ebnf;
        toolBounds.set(tool.name, json.bounds);
        bmpOnly ||= hasBoundedStrings(parameters);
        calls.push({
          type: 'sequence',
          elements: [
            { type: 'const_string', value: `${tool.name}${request.callNameSeparator}` },
            { type: 'grammar', grammar: request.callArguments === 'python-tool-call' ? chatGlm3CallGrammar(tool.parameters) : parameters },
          ],
        });
      }
      // XGrammar 0.1.27 throws a WebAssembly exception for `any_text` inside `or`: the free answer is a regex.
      const prefix = request.answerPrefix;
      const answer: StructuralTagFormat = schemaGrammar
        ? prefix === ''
          ? { type: 'grammar', grammar: schemaGrammar }
          : { type: 'sequence', elements: [{ type: 'const_string', value: prefix }, { type: 'grammar', grammar: schemaGrammar }] }
        : freeTextAnswer(prefix);
      const branches = request.branches === 'calls' ? calls : request.branches === 'answer' ? [answer] : [...calls, answer];
      const grammar = await this.#compiler.compileStructuralTag({
        type: 'structural_tag',
        format: branches.length === 1 ? branches[0]! : { type: 'or', elements: branches },
      });
      return { grammar, bmpOnly, stringBounds: trackerFor({ tools: toolBounds }) };
    } catch (error) {
      if (error instanceof GenerationError) throw error;
      throw new GenerationError(`GrammarCompiler: XGrammar could not compile the grammar: ${this.#describe(error)}`, {
        cause: error,
      });
    }
  }

  /** XGrammar's own reason (its stderr before an abort, without the source path), else the error's message. */
  #describe(error: unknown): string {
    const output = this.#xgrammar.takeErrorOutput();
    const reason = output
      .split('\n')
      .filter((line) => line.startsWith('[FATAL]'))
      .map((line) => line.replace(/^\[FATAL\] \S+:\d+: /, ''))
      .join('; ');
    if (reason) return reason;
    return error instanceof Error ? error.message : String(error);
  }

  /** The EBNF of JSON valid for `schema`, in the compact one-line layout. */
  async #jsonGrammar(schema: JsonSchema, where: string): Promise<{ ebnf: string; bounds: StringBounds }> {
    const strings = extractBoundedStrings(schema);
    const prepared = extractNumberRanges(strings.schema, where);
    for (const [placeholder, ebnf] of strings.grammars) prepared.numberRanges.set(placeholder, ebnf);
    let grammar;
    try {
      grammar = await this.#xgrammar.Grammar.fromJSONSchema(JSON.stringify(prepared.schema), false, -1, jsonSeparators);
    } catch (error) {
      throw new GenerationError(`GrammarCompiler: XGrammar rejected the JSON Schema of ${where}: ${this.#describe(error)}`, {
        cause: error,
        details: { where },
      });
    }
    try {
      const ebnf = boundedStringCharacters(insertNumberRanges(grammar.toString(), prepared.numberRanges, where));
      return { ebnf, bounds: strings.bounds };
    } finally {
      grammar.dispose();
    }
  }
}

/** The character class XGrammar 0.1.27 writes for each character of a string with minLength / maxLength. */
const boundedStringCharacter = '[^\\"\\\\\\r\\n]';
/**
 * Its replacement: no raw control characters (invalid in JSON; XGrammar's unbounded strings exclude them too).
 * Characters beyond the BMP, which zod's `.max()` / `.min()` count as two (UTF-16 code units) where JSON Schema and
 * the grammar count one (code points), cannot be excluded here: XGrammar 0.1.27 clamps the non-ASCII ranges of a
 * negated class to 127, and a positive class with non-ASCII ranges accepts a lone lead byte as a character. Grammars
 * with bounded strings therefore mask 4-byte UTF-8 sequences at the token level (Utf8TokenMasks, `astral: false`).
 */
const safeBoundedStringCharacter = '[^\\0-\\x1f\\"\\\\]';

function boundedStringCharacters(ebnf: string): string {
  return ebnf.split(boundedStringCharacter).join(safeBoundedStringCharacter);
}

function hasBoundedStrings(ebnf: string): boolean {
  return ebnf.includes(safeBoundedStringCharacter);
}

interface CompiledEntry {
  grammar: CompiledGrammar;
  /** The grammar has length-bounded strings: mask characters beyond the BMP (see boundedStringCharacters). */
  bmpOnly: boolean;
  /** Enforces the maximum length of the strings bounded-strings.ts took out of the grammar; undefined: none. */
  stringBounds: StringBoundTracker | undefined;
}

function trackerFor(target: StringBoundTarget): StringBoundTracker | undefined {
  return StringBoundTracker.needed(target) ? new StringBoundTracker(target) : undefined;
}

interface NormalizedRequest {
  schema?: JsonSchema;
  tools?: Array<{ name: string; parameters: JsonSchema }>;
  /** toolChoice 'none': the tools grammar's answer branch alone; 'required': its calls alone. */
  branches?: 'answer' | 'calls';
  answerPrefix: string;
  callNameSeparator: string;
  callArguments: 'json' | 'python-tool-call';
}

function normalizeRequest(request: ConstraintRequest): NormalizedRequest {
  const tools = request.tools;
  if (request.schema === undefined && (tools === undefined || tools.length === 0)) {
    throw new GenerationError('createConstraint: give `schema`, `tools` (at least one), or both.');
  }
  const format = request.format ?? defaultChatFormat;
  const normalized: NormalizedRequest = { answerPrefix: format.answerPrefix, callNameSeparator: format.callNameSeparator, callArguments: format.callArguments ?? 'json' };
  if (request.schema !== undefined) normalized.schema = toGrammarJsonSchema(request.schema, 'schema');
  if (tools !== undefined && tools.length > 0) {
    const seen = new Set<string>();
    normalized.tools = tools.map((tool, index) => {
      if (!isToolName(tool.name)) {
        throw new GenerationError(
          `createConstraint: tools[${index}].name must be ${toolNameRule}, got ${JSON.stringify(tool.name)}.`,
          { details: { index } },
        );
      }
      if (seen.has(tool.name)) {
        throw new GenerationError(`createConstraint: tool name "${tool.name}" appears twice; tool names must be unique.`, {
          details: { name: tool.name },
        });
      }
      seen.add(tool.name);
      const parameters = toGrammarJsonSchema(tool.parameters, `tool "${tool.name}" parameters`);
      return { name: tool.name, parameters: withObjectType(parameters) };
    });
    if (request.toolChoice === 'none') normalized.branches = 'answer';
    if (request.toolChoice === 'required') normalized.branches = 'calls';
  }
  if (request.toolChoice !== undefined && !['auto', 'none', 'required'].includes(request.toolChoice)) {
    throw new GenerationError(`createConstraint: toolChoice must be 'auto', 'none' or 'required', got ${JSON.stringify(request.toolChoice)}.`);
  }
  return normalized;
}

/** GLM tool arguments are a JSON object: a schema that does not say what it is (e.g. `{}`) is made an object. */
function withObjectType(schema: JsonSchema): JsonSchema {
  const typed = ['type', 'anyOf', 'oneOf', 'allOf', '$ref', 'const', 'enum'].some((keyword) => keyword in schema);
  return typed ? schema : { type: 'object', ...schema };
}

function resolveOptions(options: GrammarCompilerOptions): Required<GrammarCompilerOptions> {
  const { vocabSize, stopTokenIds, maxCachedGrammars = 64 } = options ?? ({} as GrammarCompilerOptions);
  if (!Number.isInteger(vocabSize) || vocabSize <= 0) {
    throw new GenerationError(`GrammarCompiler: expected \`vocabSize\` to be a positive integer, got ${vocabSize}.`);
  }
  if (!Array.isArray(stopTokenIds) || stopTokenIds.length === 0) {
    throw new GenerationError('GrammarCompiler: expected `stopTokenIds` to list at least one stop token id.');
  }
  for (const id of stopTokenIds) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new GenerationError(
        `GrammarCompiler: stop token id ${id} is not an integer in [0, ${vocabSize}) (vocabSize).`,
      );
    }
  }
  if (!Number.isInteger(maxCachedGrammars) || maxCachedGrammars < 1) {
    throw new GenerationError(
      `GrammarCompiler: expected \`maxCachedGrammars\` to be an integer >= 1, got ${maxCachedGrammars}.`,
    );
  }
  return { vocabSize, stopTokenIds: [...stopTokenIds], maxCachedGrammars };
}

