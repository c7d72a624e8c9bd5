/**
 * A bounded loopback chat load for the ops tests and benchmark: `clients` loops of chat completions that run until
 * `during` resolves (or `maxMs` passes), recording each answer's status and `x-autoglm-model-version`.
 */
export interface ChatLoadOptions {
  url: string;
  apiKey?: string;
  model: string;
  clients: number;
  maxTokens: number;
  /** The work done under load; the load stops when it settles. */
  during: () => Promise<void>;
  /** Hard stop of the load. Defaults to 120000 ms. */
  maxMs?: number;
  /** Called for every answered request (ms since the load started, the version that answered). */
  onAnswer?: (answer: { at: number; version: string | null; status: number }) => void;
}

export interface ChatLoadResult {
  ok: number;
  failed: { status: number; body: string }[];
  byVersion: Record<string, number>;
  latenciesMs: number[];
  elapsedMs: number;
}

export async function runChatLoad(options: ChatLoadOptions): Promise<ChatLoadResult> {
  const result: ChatLoadResult = { ok: 0, failed: [], byVersion: {}, latenciesMs: [], elapsedMs: 0 };
  const started = performance.now();
  const deadline = started + (options.maxMs ?? 120_000);
  let stop = false;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
  const client = async (index: number) => {
    for (let turn = 0; !stop && performance.now() < deadline; turn += 1) {
      const sent = performance.now();
      try {
        const response = await fetch(`${options.url}/v1/chat/completions`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ model: options.model, messages: [{ role: 'user', content: `client ${index} turn ${turn}` }], max_tokens: options.maxTokens }),
        });
        const body = await response.text();
        const version = response.headers.get('x-autoglm-model-version');
        options.onAnswer?.({ at: performance.now() - started, version, status: response.status });
        if (response.status !== 200 || version === null) {
          result.failed.push({ status: response.status, body: body.slice(0, 300) });
          continue;
        }
        result.ok += 1;
        result.byVersion[version] = (result.byVersion[version] ?? 0) + 1;
        result.latenciesMs.push(performance.now() - sent);
      } catch (error) {
        result.failed.push({ status: 0, body: String(error) });
      }
    }
  };
  const clients = Array.from({ length: options.clients }, (_, index) => client(index));
  try {
    await options.during();
  } finally {
    stop = true;
    await Promise.all(clients);
  }
  result.elapsedMs = performance.now() - started;
  return result;
}
