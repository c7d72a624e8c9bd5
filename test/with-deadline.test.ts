import { describe, expect, it } from 'vitest';
import { maxTimerDelayMs, withDeadline } from '../src/with-deadline';

const errors = {
  onTimeout: () => new Error('deadline passed'),
  onAbort: (reason: unknown) => new Error(`aborted: ${String(reason)}`),
};

describe('withDeadline', () => {
  it('resolves with the work value, and rejects with the work error', async () => {
    await expect(withDeadline(async () => 42, { ...errors, timeoutMs: 1000 })).resolves.toBe(42);
    await expect(withDeadline(() => 7, errors)).resolves.toBe(7);
    await expect(withDeadline(async () => Promise.reject(new Error('boom')), { ...errors, timeoutMs: 1000 })).rejects.toThrow('boom');
    await expect(withDeadline(() => { throw new Error('sync boom'); }, errors)).rejects.toThrow('sync boom');
  });

  it('ends on time even when the work ignores its signal, and aborts that signal with the timeout error', async () => {
    let seen: AbortSignal | undefined;
    const started = performance.now();
    const never = new Promise<never>(() => undefined);
    await expect(withDeadline((signal) => ((seen = signal), never), { ...errors, timeoutMs: 30 })).rejects.toThrow('deadline passed');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(seen?.aborted).toBe(true);
    expect((seen?.reason as Error).message).toBe('deadline passed');
  });

  it("ends when the caller's signal aborts, also when it was aborted before", async () => {
    const controller = new AbortController();
    const pending = withDeadline(() => new Promise<never>(() => undefined), { ...errors, signal: controller.signal });
    controller.abort('stop');
    await expect(pending).rejects.toThrow('aborted: stop');
    let ran = false;
    await expect(withDeadline(() => { ran = true; }, { ...errors, signal: controller.signal })).rejects.toThrow('aborted: stop');
    expect(ran).toBe(false);
  });

  it('removes its listener from a long-lived signal once the work settles', async () => {
    const controller = new AbortController();
    for (let index = 0; index < 50; index++) await withDeadline(async () => index, { ...errors, signal: controller.signal, timeoutMs: 1000 });
    // A leak would fire 50 onAbort callbacks here; none fires because every listener was removed.
    let calls = 0;
    const counting = { onTimeout: errors.onTimeout, onAbort: () => ((calls += 1), new Error('x')) };
    await withDeadline(async () => 1, { ...counting, signal: controller.signal });
    controller.abort();
    expect(calls).toBe(0);
  });

  it('refuses timeouts setTimeout cannot hold (they would fire at once)', () => {
    expect(() => withDeadline(() => 1, { ...errors, timeoutMs: maxTimerDelayMs + 1 })).toThrow(RangeError);
    expect(() => withDeadline(() => 1, { ...errors, timeoutMs: Number.NaN })).toThrow(RangeError);
  });
});
