/**
 * Issue 18 item 8 (PDF part): pdf.js used to run on the main thread, so a 31 KB PDF with 3 million text operators
 * blocked the event loop for 20-40 s and ran past its deadline (the deadline was checked only between pages). Now the
 * parse runs in a worker thread that is killed at the deadline, on abort, or when it passes its heap limit.
 */
import { describe, expect, it } from 'vitest';
import { AbortError, DocumentError } from '../../src/errors';
import { readPdf } from '../../src/tools/pdf/read-pdf';
import { textOperatorBomb } from '../support/hostile-pdf';

const bomb = textOperatorBomb(3_000_000);

/** Runs `work` while sampling the event loop every 10 ms; returns its outcome, the time it took and the longest gap. */
async function watched<T>(work: () => Promise<T>): Promise<{ outcome: T | unknown; elapsedMs: number; longestGapMs: number }> {
  let last = performance.now();
  let longestGapMs = 0;
  const sampler = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
  }, 10);
  const started = performance.now();
  const outcome = await work().catch((error: unknown) => error);
  const elapsedMs = performance.now() - started;
  clearInterval(sampler);
  return { outcome, elapsedMs, longestGapMs };
}

describe('readPdf on hostile and odd PDFs', () => {
  it('stops at its deadline without blocking the event loop', async () => {
    const { outcome, elapsedMs, longestGapMs } = await watched(() => readPdf(bomb, { fileName: 'bomb.pdf', timeoutMs: 1500 }));
    console.info(`pdf bomb (${bomb.length} bytes): timeout after ${elapsedMs.toFixed(0)} ms, longest event-loop gap ${longestGapMs.toFixed(0)} ms`);
    expect(outcome).toBeInstanceOf(DocumentError);
    expect(outcome).toMatchObject({ details: { file: 'bomb.pdf', cause: 'timeout', timeoutMs: 1500 } });
    expect(elapsedMs).toBeLessThan(5000);
    expect(longestGapMs).toBeLessThan(1000);
  }, 60_000);

  it('stops when its signal aborts mid-parse', async () => {
    const { outcome, elapsedMs } = await watched(() => readPdf(bomb, { signal: AbortSignal.timeout(500) }));
    expect(outcome).toBeInstanceOf(AbortError);
    expect(elapsedMs).toBeLessThan(3000);
  }, 60_000);

  it('stops with a typed error when the parse passes its heap limit', async () => {
    const { outcome } = await watched(() => readPdf(bomb, { fileName: 'bomb.pdf', maxMemoryMb: 16, timeoutMs: 30_000 }));
    expect(outcome).toBeInstanceOf(DocumentError);
    expect(outcome).toMatchObject({ details: { cause: 'out-of-memory', maxMemoryMb: 16 } });
  }, 60_000);

  it('still reads an ordinary document afterwards', async () => {
    const document = await readPdf(textOperatorBomb(5), { timeoutMs: 30_000 });
    expect(document.pages).toEqual([{ number: 1, text: 'aaaaa' }]);
  }, 60_000);

  it('reads a PDF whose "%PDF-" header is damaged, as pdf.js does (mozilla/pdf.js test/pdfs/bug1606566.pdf is one)', async () => {
    const headless = textOperatorBomb(3);
    headless.set([0x25, 0xe2, 0xe3, 0xcf, 0xd3, 0x20, 0x20, 0x20, 0x0a], 0); // "%PDF-1.4\n" -> "%âãÏÓ   \n"
    expect((await readPdf(headless, { timeoutMs: 30_000 })).pages).toEqual([{ number: 1, text: 'aaa' }]);
    await expect(readPdf(new TextEncoder().encode('just text'))).rejects.toMatchObject({ details: { cause: 'not-a-pdf' } });
  }, 60_000);

  it('refuses a bad maxMemoryMb', async () => {
    await expect(readPdf(bomb, { maxMemoryMb: 0 })).rejects.toThrow(/`maxMemoryMb` to be an integer >= 1/);
  });
});
