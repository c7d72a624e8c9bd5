/**
 * Load and security behaviour of the server on a tiny GLM: the bounded queue (429 + Retry-After), a client that
 * disconnects aborts its generation, the per-request deadline, bearer keys, the body limit, CORS only when
 * configured, readiness, metric names, and a graceful close that lets an in-flight request finish.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type AutoglmServer } from '../../src/server/create-server';
import type { ModelProvider } from '../../src/server/model-provider';
import type { CreateServerOptions } from '../../src/server/server-options';
import { GlmModel } from '../../src/models/glm-model';
import { useTinyModel, useTinyModelDirectory } from '../agent/onnx-helpers';

const tiny = useTinyModel('server-limits');
const batchDirectory = useTinyModelDirectory('server-limits-batch');
const servers: AutoglmServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function start(options: Partial<CreateServerOptions> = {}): Promise<{ url: string; server: AutoglmServer }> {
  const server = await createServer({ models: { tiny: tiny.model }, port: 0, ...options });
  servers.push(server);
  return { url: await server.listen(), server };
}

const chat = (url: string, body: Record<string, unknown>, init: RequestInit = {}) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
    body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'Go on' }], ...body }),
  });

/** Measured on this tiny model: an 850-token call (about 2.5 s) whose string argument has no end in sight. */
const longCall = {
  temperature: 1,
  seed: 1,
  tools: [{ type: 'function', function: { name: 'w', parameters: { type: 'object', properties: { s: { type: 'string' } }, required: ['s'] } } }],
  tool_choice: 'required',
};

async function metric(url: string, line: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const row of text.split('\n')) if (line.test(row)) return Number(row.split(' ').at(-1));
  return undefined;
}

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('server limits', () => {
  it('answers 429 with Retry-After past the queue, and a disconnecting client aborts its generation', async () => {
    const { url } = await start({ maxQueued: 0 });
    const controller = new AbortController();
    const running = await chat(url, { stream: true, max_tokens: 1500, ...longCall }, { signal: controller.signal });
    const reader = running.body!.getReader();
    await reader.read();
    const refused = await chat(url, { max_tokens: 4 });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { error: { type: string; code: string } }).error).toMatchObject({ type: 'rate_limit_error', code: 'SERVER_BUSY' });
    controller.abort();
    await reader.cancel().catch(() => undefined);
    await until(async () => (await metric(url, /^autoglm_generations_total\{.*finish_reason="abort"/)) === 1);
    expect(await metric(url, /^autoglm_server_queue_depth\{model="tiny"\}/)).toBe(0);
    expect(await metric(url, /^autoglm_server_rejected_requests_total\{model="tiny",reason="queue_full"\}/)).toBe(1);
    expect((await chat(url, { max_tokens: 2 })).status).toBe(200);
  });

  it('runs as many requests at once as the model runs sequences, and queues maxQueued more', async () => {
    const model = await GlmModel.load(batchDirectory.directory, { sequences: 2 });
    try {
      const { url } = await start({ models: { tiny: model }, maxQueued: 0 });
      expect(await metric(url, /^autoglm_server_queue_limit\{model="tiny"\}/)).toBe(2);
      const controller = new AbortController();
      const running = await Promise.all([1, 2].map((seed) => chat(url, { stream: true, max_tokens: 1500, ...longCall, seed }, { signal: controller.signal })));
      const readers = running.map((response) => response.body!.getReader());
      // Both stream at once: the model batches them.
      for (const reader of readers) expect((await reader.read()).done).toBe(false);
      expect(await metric(url, /^autoglm_server_queue_depth\{model="tiny"\}/)).toBe(2);
      expect((await chat(url, { max_tokens: 4 })).status).toBe(429);
      controller.abort();
      for (const reader of readers) await reader.cancel().catch(() => undefined);
      await until(async () => (await metric(url, /^autoglm_server_queue_depth\{model="tiny"\}/)) === 0);
      expect(model.batchStats.largestBatch).toBe(2);
    } finally {
      for (const server of servers.splice(0)) await server.close();
      await model.dispose();
    }
  });

  it('ends a request past its deadline with 504', async () => {
    const { url } = await start({ requestTimeoutMs: 50 });
    const response = await chat(url, { max_tokens: 1500, temperature: 1, seed: 2 });
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('timeout_error');
  });

  it('requires the bearer key everywhere but the probes, limits the body, and sends CORS only when configured', async () => {
    const { url } = await start({ apiKey: 'correct-horse', bodyLimit: 2048, corsOrigins: ['http://app.local'] });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const anonymous = await fetch(`${url}/v1/models`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    expect((await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer correct-horsf' } })).status).toBe(401);
    const auth = { authorization: 'Bearer correct-horse' };
    expect((await fetch(`${url}/v1/models`, { headers: auth })).status).toBe(200);
    const large = await chat(url, { messages: [{ role: 'user', content: 'x'.repeat(4096) }] }, { headers: auth });
    expect(large.status).toBe(413);
    expect(((await large.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    expect((await fetch(`${url}/v1/models`, { headers: { ...auth, origin: 'http://evil.local' } })).headers.get('access-control-allow-origin')).toBeNull();
    expect((await fetch(`${url}/v1/models`, { headers: { ...auth, origin: 'http://app.local' } })).headers.get('access-control-allow-origin')).toBe('http://app.local');
    // A streamed reply writes its own headers; the CORS header must survive that.
    const streamed = await chat(url, { max_tokens: 2, stream: true }, { headers: { ...auth, origin: 'http://app.local' } });
    expect(streamed.headers.get('access-control-allow-origin')).toBe('http://app.local');
    expect(await streamed.text()).toContain('data: [DONE]');
  });

  it('is ready once the model is warm and serves the documented metric names', async () => {
    const { url } = await start();
    await until(async () => (await fetch(`${url}/readyz`)).status === 200);
    await chat(url, { max_tokens: 2 });
    await (await chat(url, { max_tokens: 2, stream: true })).text();
    const text = await (await fetch(`${url}/metrics`)).text();
    // Streamed (hijacked) replies leave the gauge too: only the /metrics request itself is in flight.
    expect(text).toMatch(/^autoglm_http_requests_in_flight 1$/m);
    for (const name of [
      'autoglm_http_request_duration_seconds_bucket',
      'autoglm_http_requests_in_flight',
      'autoglm_server_queue_depth',
      'autoglm_generations_total',
      'autoglm_tokens_generated_total',
      'autoglm_time_to_first_token_seconds_bucket',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/autoglm_http_request_duration_seconds_count\{method="POST",route="\/v1\/chat\/completions",status="200"\} 2/);
  });

  it('serves through a custom ModelProvider and warms a new version before it is ready again', async () => {
    let version = 'a';
    let ready = true;
    const provider: ModelProvider = {
      get: (name) => (name === 'tiny' ? { model: tiny.model, version } : undefined),
      list: () => [{ name: 'tiny', version }],
      ready: () => ready,
    };
    const { url } = await start({ models: provider });
    await until(async () => (await fetch(`${url}/readyz`)).status === 200);
    const first = (await (await chat(url, { max_tokens: 2 })).json()) as { system_fingerprint: string };
    expect(first.system_fingerprint).toBe('autoglm-a');
    version = 'b';
    const notReady = await fetch(`${url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ models: [{ name: 'tiny', version: 'b', warm: false }] });
    await until(async () => (await fetch(`${url}/readyz`)).status === 200);
    ready = false;
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    expect(((await (await chat(url, { max_tokens: 2 })).json()) as { system_fingerprint: string }).system_fingerprint).toBe('autoglm-b');
  });

  it('closes gracefully: an in-flight request finishes, new connections are refused', async () => {
    const { url, server } = await start();
    const response = await chat(url, { stream: true, max_tokens: 200, ...longCall });
    const reader = response.body!.getReader();
    let body = new TextDecoder().decode((await reader.read()).value);
    const closed = server.close();
    for (let part = await reader.read(); !part.done; part = await reader.read()) body += new TextDecoder().decode(part.value);
    expect(response.status).toBe(200);
    expect(body).toContain('"finish_reason":"length"');
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    await closed;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
