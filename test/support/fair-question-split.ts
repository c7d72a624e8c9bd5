/**
 * The fixed split of the fair question set into a tuning half and a held-out half. A seeded Fisher-Yates shuffle
 * (mulberry32) of the question ids in file order; the first ceil(n / 2) shuffled ids are the tuning half. The test
 * recomputes it from the seed in the fixture's header, so a question can never move between halves unnoticed.
 */

export type FairSplit = 'tune' | 'heldout';

/** mulberry32: a small, well-known 32-bit seeded generator; floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The half each id falls in, for ids in file order and the fixture's seed. */
export function fairSplit(ids: string[], seed: number): Map<string, FairSplit> {
  const random = mulberry32(seed);
  const shuffled = [...ids];
  for (let index = shuffled.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [shuffled[index], shuffled[other]] = [shuffled[other], shuffled[index]];
  }
  const tuneCount = Math.ceil(shuffled.length / 2);
  return new Map(shuffled.map((id, position) => [id, position < tuneCount ? 'tune' : 'heldout']));
}
