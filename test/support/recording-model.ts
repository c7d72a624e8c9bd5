/**
 * A LanguageModel that passes every call to a GlmModel and records each generation: the prompt ids the engine ran
 * (when asked) and the end event with its usage and timings. Tests and benchmarks of the agent on the real engine
 * read what each step cost through it.
 */
import type { GlmModel } from '../../src/models/glm-model';
import { generateResultOf, type GenerateOptions, type GenerateResult, type GenerationEvent, type LanguageModel, type ModelInput, type ToolSpec } from '../../src/models/language-model';

export interface RecordedGeneration {
  /** The ids the engine ran, with `recordPromptIds`. */
  promptIds?: number[];
  result: GenerateResult;
}

export interface RecordingModelOptions {
  /** Record each generation's prompt ids (an extra chat encoding per call). Defaults to false. */
  recordPromptIds?: boolean;
  /** Rewrites the options of each call before it reaches the model. Defaults to none. */
  adjustOptions?: (options: GenerateOptions) => GenerateOptions;
}

export class RecordingModel implements LanguageModel {
  readonly generations: RecordedGeneration[] = [];
  recordPromptIds: boolean;
  readonly #adjust: (options: GenerateOptions) => GenerateOptions;

  constructor(
    readonly inner: GlmModel,
    options: RecordingModelOptions = {},
  ) {
    this.recordPromptIds = options.recordPromptIds ?? false;
    this.#adjust = options.adjustOptions ?? ((value) => value);
  }

  get info() {
    return this.inner.info;
  }

  get chatFormat() {
    return this.inner.chatFormat;
  }

  generate(input: ModelInput, options: GenerateOptions = {}): Promise<GenerateResult> {
    return generateResultOf(this.stream(input, options));
  }

  async *stream(input: ModelInput, options: GenerateOptions = {}): AsyncGenerator<GenerationEvent, void, undefined> {
    const adjusted = this.#adjust(options);
    const promptIds = this.recordPromptIds ? this.inner.promptTokenIds(input, adjusted.tools ? { tools: adjusted.tools } : {}) : undefined;
    for await (const event of this.inner.stream(input, adjusted)) {
      if (event.type === 'end') {
        const { type: _type, ...result } = event;
        this.generations.push({ ...(promptIds ? { promptIds } : {}), result });
      }
      yield event;
    }
  }

  tokenize(text: string): number[] {
    return this.inner.tokenize(text);
  }

  countTokens(input: ModelInput, options?: { tools?: ToolSpec[] }): number {
    return this.inner.countTokens(input, options);
  }

  async dispose(): Promise<void> {}
}
