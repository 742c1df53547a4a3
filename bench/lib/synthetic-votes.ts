/**
 * Synthetic arena votes for the benchmarks: models `model-000`, `model-001`, … with known true
 * ratings; each vote a uniformly random pair and slot order, its winner drawn from the ratings'
 * Elo win probability (ties at `tieShare`, blind to strength). Seeded, so a size is the same
 * data in every run.
 */
import { mulberry32 } from "../../workers/arena/bootstrap.js";
import type { ArenaVote } from "../../workers/arena/bradley-terry.js";

/** Uniformly random pairs and slots; the winner drawn from the true ratings (ties at `tieShare`, blind to strength). */
export function syntheticVotes(trueRatings: readonly number[], count: number, tieShare: number, seed: number): ArenaVote[] {
  const random = mulberry32(seed);
  const m = trueRatings.length;
  const votes: ArenaVote[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const i = Math.floor(random() * m);
    let j = Math.floor(random() * (m - 1));
    if (j >= i) j++;
    const pA = 1 / (1 + 10 ** ((trueRatings[j]! - trueRatings[i]!) / 400));
    const tie = random() < tieShare;
    const aWins = random() < pA;
    votes[k] = { modelA: `model-${String(i).padStart(3, "0")}`, modelB: `model-${String(j).padStart(3, "0")}`, winner: tie ? "tie" : aWins ? "a" : "b" };
  }
  return votes;
}

