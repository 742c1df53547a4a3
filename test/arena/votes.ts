/** Vote builders shared by the arena tests. */
import type { ArenaVote } from "../../workers/arena/bradley-terry.js";
import { mulberry32 } from "../../workers/arena/bootstrap.js";

/** `counts` votes of each outcome between a (slot A) and b (slot B). */
export function battles(a: string, b: string, counts: Partial<Record<ArenaVote["winner"], number>>): ArenaVote[] {
  const out: ArenaVote[] = [];
  for (const winner of ["a", "b", "tie", "bothbad"] as const) {
    for (let k = 0; k < (counts[winner] ?? 0); k++) out.push({ modelA: a, modelB: b, winner });
  }
  return out;
}

/** A seeded Fisher–Yates shuffle (a copy). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Random votes among models with known ratings: uniform pairs and slots, outcome by Bradley–Terry. */
export function simulatedVotes(trueRatings: Readonly<Record<string, number>>, count: number, seed: number, tieShare = 0): ArenaVote[] {
  const random = mulberry32(seed);
  const names = Object.keys(trueRatings);
  const out: ArenaVote[] = [];
  for (let k = 0; k < count; k++) {
    const i = Math.floor(random() * names.length);
    let j = Math.floor(random() * (names.length - 1));
    if (j >= i) j++;
    const a = names[i]!;
    const b = names[j]!;
    const pA = 1 / (1 + 10 ** ((trueRatings[b]! - trueRatings[a]!) / 400));
    const u = random();
    const winner = random() < tieShare ? "tie" : u < pA ? "a" : "b";
    out.push({ modelA: a, modelB: b, winner });
  }
  return out;
}
