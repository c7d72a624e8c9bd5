import type { GenerationEvent, LanguageModel, ModelInput } from '../../src/models/language-model';

/** Streams a generation and aborts it once `afterTokens` tokens have arrived: the token ids seen and the end event. */
export async function streamWithAbort(
  model: LanguageModel,
  input: ModelInput,
  afterTokens: number,
): Promise<{ tokens: number[]; end: GenerationEvent | undefined }> {
  const controller = new AbortController();
  const tokens: number[] = [];
  let end: GenerationEvent | undefined;
  for await (const event of model.stream(input, { maxNewTokens: 30, signal: controller.signal })) {
    if (event.type === 'token') {
      tokens.push(event.id);
      if (tokens.length === afterTokens) controller.abort();
    } else {
      end = event;
    }
  }
  return { tokens, end };
}
