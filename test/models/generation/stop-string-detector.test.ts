import { describe, expect, it } from 'vitest';
import { StopStringDetector } from '../../../src/models/generation/stop-string-detector';

function feed(detector: StopStringDetector, pieces: string[]): { emitted: string[]; stopped: boolean } {
  const emitted: string[] = [];
  for (const piece of pieces) {
    const result = detector.push(piece);
    emitted.push(result.text);
    if (result.stopped) return { emitted, stopped: true };
  }
  emitted.push(detector.flush());
  return { emitted, stopped: false };
}

describe('StopStringDetector', () => {
  it('finds a stop string split across pieces and drops it and what follows', () => {
    const { emitted, stopped } = feed(new StopStringDetector(['END']), ['hello E', 'N', 'D and more']);
    expect(stopped).toBe(true);
    expect(emitted.join('')).toBe('hello ');
  });

  it('holds back only text that may still become a stop string, then releases it', () => {
    const detector = new StopStringDetector(['###']);
    expect(detector.push('a#').text).toBe('a');
    expect(detector.push('#').text).toBe('');
    expect(detector.push('b').text).toBe('##b');
    expect(detector.flush()).toBe('');
  });

  it('releases a held-back prefix at flush when generation ends otherwise', () => {
    const { emitted, stopped } = feed(new StopStringDetector(['<stop>']), ['x <st', 'o']);
    expect(stopped).toBe(false);
    expect(emitted).toEqual(['x ', '', '<sto']);
  });

  it('stops at the earliest of several stop strings, also inside one piece', () => {
    const detector = new StopStringDetector(['bc', 'zzz', 'abcd']);
    const result = detector.push('xxabcd');
    expect(result).toEqual({ text: 'xx', stopped: true }); // 'abcd' begins before 'bc'
    expect(detector.push('more')).toEqual({ text: '', stopped: true });
  });

  it('passes text through untouched without stop strings', () => {
    expect(feed(new StopStringDetector([]), ['a', 'b']).emitted.join('')).toBe('ab');
    expect(feed(new StopStringDetector(['']), ['a', 'b']).emitted.join('')).toBe('ab');
  });
});
