/**
 * A LanguageModel bound to one loaded version that holds a lease for each call, from the call itself (not the
 * generator's first `next`) until the generation ends or is returned early. This is how the server's ModelProvider
 * seam (`get(name)` hands out a model, with no release) still keeps a replaced version alive until the requests that
 * started on it finish.
 */
import type { GenerateOptions, GenerateResult, GenerationEvent, LanguageModel, ModelInput, ToolSpec } from '../models/language-model';
import type { ModelLease } from './model-registry-options';

export function leasingModel(model: LanguageModel, lease: () => ModelLease): LanguageModel {
  return {
    get info() {
      return model.info;
    },
    // What the model says of itself passes through: its chat format (agents prompt and parse by it) and how many
    // generations it runs at once (the server's admission, the workflow model queue).
    get chatFormat() {
      return model.chatFormat;
    },
    get sequences() {
      return model.sequences;
    },
    async generate(input: ModelInput, options?: GenerateOptions): Promise<GenerateResult> {
      const held = lease();
      try {
        return await model.generate(input, options);
      } finally {
        held.release();
      }
    },
    stream(input: ModelInput, options?: GenerateOptions): AsyncGenerator<GenerationEvent, void, undefined> {
      const held = lease();
      let inner: AsyncGenerator<GenerationEvent, void, undefined>;
      try {
        inner = model.stream(input, options);
      } catch (error) {
        held.release();
        throw error;
      }
      const settle = async <T>(step: Promise<IteratorResult<GenerationEvent, void>>, always = false) => {
        try {
          const result = await step;
          if (result.done === true || always) held.release();
          return result as T;
        } catch (error) {
          held.release();
          throw error;
        }
      };
      const generator: AsyncGenerator<GenerationEvent, void, undefined> = {
        next: () => settle(inner.next()),
        return: (value) => settle(inner.return(value), true),
        throw: (error) => settle(inner.throw(error)),
        [Symbol.asyncIterator]() {
          return generator;
        },
      };
      return generator;
    },
    tokenize: (text: string) => model.tokenize(text),
    countTokens: (input: ModelInput, options?: { tools?: ToolSpec[] }) => model.countTokens(input, options),
    // The registry owns the version's lifetime; a caller's dispose must not unload it under other requests.
    dispose: async () => undefined,
  };
}
