/**
 * Which two models meet in a battle: two different models drawn at random among those in the
 * arena and serving now, each draw weighted by the model's configured weight, then a coin flip for
 * which one is A — so a heavy model is not always on the left. Pure: the caller passes the
 * candidates and the random source.
 */
import type { RandomSource } from "./bootstrap.js";

export interface ArenaCandidate {
  model: string;
  /** Relative weight, > 0. */
  weight: number;
}

export interface Matchup {
  a: string;
  b: string;
}

/** Index drawn with probability weight / total; `r` in [0, 1). */
function drawIndex(candidates: readonly ArenaCandidate[], r: number): number {
  const total = candidates.reduce((sum, c) => sum + c.weight, 0);
  let threshold = r * total;
  for (let i = 0; i < candidates.length; i++) {
    threshold -= candidates[i]!.weight;
    if (threshold < 0) return i;
  }
  // r * total rounded up to total: the last candidate with any weight.
  return candidates.length - 1;
}

/**
 * Two different models for a battle, or null when fewer than two candidates are left. Candidates
 * with the same name count once; weights must be positive and finite.
 */
export function pickMatchup(candidates: readonly ArenaCandidate[], random: RandomSource): Matchup | null {
  const unique = [...new Map(candidates.map((c) => [c.model, c])).values()];
  for (const c of unique) {
    if (!(c.weight > 0) || !Number.isFinite(c.weight)) throw new RangeError(`arena weight of ${c.model} must be positive and finite, not ${c.weight}`);
  }
  if (unique.length < 2) return null;
  const first = drawIndex(unique, random());
  const rest = unique.filter((_, i) => i !== first);
  const second = rest[drawIndex(rest, random())]!;
  const firstModel = unique[first]!.model;
  return random() < 0.5 ? { a: firstModel, b: second.model } : { a: second.model, b: firstModel };
}

/**
 * The probability that a battle is between `x` and `y` (either side), for tests and the docs:
 * P(x first) · P(y second | x gone) + the same the other way round.
 */
export function matchupProbability(candidates: readonly ArenaCandidate[], x: string, y: string): number {
  const total = candidates.reduce((sum, c) => sum + c.weight, 0);
  const weight = (m: string) => candidates.find((c) => c.model === m)?.weight ?? 0;
  const wx = weight(x);
  const wy = weight(y);
  if (wx === 0 || wy === 0 || x === y) return 0;
  return (wx / total) * (wy / (total - wx)) + (wy / total) * (wx / (total - wy));
}
