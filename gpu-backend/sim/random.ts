/**
 * Seeded randomness shared by the simulator and the cluster benchmark, so both draw the same
 * streams from the same seeds. Pure.
 */

/** FNV-1a over UTF-16 code units: seeds lorem from the prompt. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Small seeded PRNG returning [0, 1) (mulberry32: tiny, fast, good enough for simulation). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
