/**
 * The arena leaderboard from (already filtered, see vote-filters.ts) votes: per model its rating,
 * 95 % bootstrap interval, battles, wins, losses and ties, and the pairwise win-fraction matrix.
 * Pure; the API computes it on a schedule or on demand and caches it, never per page view.
 */
import {
  aggregateVotes,
  DEFAULT_PRIOR_STRENGTH,
  compareNames,
  type ArenaVote,
  type RatingAnchor,
} from "./bradley-terry.js";
import { bootstrapPairCounts, DEFAULT_BOOTSTRAP_ROUNDS, DEFAULT_BOOTSTRAP_SEED } from "./bootstrap.js";

export interface LeaderboardOptions {
  /** Pin a model's rating; default: the mean rating is 1000. */
  anchor?: { model: string; rating: number };
  /** The mean model's rating when no model anchor applies; default 1000. */
  meanRating?: number;
  /** Bootstrap rounds (≥ 100); default 100. */
  bootstrapRounds?: number;
  /** Bootstrap seed; default 42. Fixed so the same votes give the same page. */
  seed?: number;
  /** L2 prior of the fit; default DEFAULT_PRIOR_STRENGTH. */
  priorStrength?: number;
}

/** One model's row, as GET /v1/leaderboard serves it. */
export interface LeaderboardRow {
  model: string;
  /**
   * 1 + how many models are better beyond doubt (their interval's low end above this one's high
   * end), Chatbot Arena's rule: models whose intervals overlap share a rank.
   */
  rank: number;
  rating: number;
  /** 95 % bootstrap interval. */
  ratingLow: number;
  ratingHigh: number;
  battles: number;
  wins: number;
  losses: number;
  /** "tie" and "bothbad" votes together. */
  ties: number;
}

export interface WinFractionMatrix {
  /** Row and column order: the rows' order (best first). */
  models: string[];
  /**
   * `fractions[i][j]`: the share of battles between models[i] and models[j] that models[i] won,
   * ties counting half; null on the diagonal and for pairs that never met.
   */
  fractions: (number | null)[][];
  /** `battles[i][j]`: how many battles the pair had (symmetric, 0 on the diagonal). */
  battles: number[][];
}

export interface Leaderboard {
  /** Best first: by rating, then by name for equal ratings. */
  rows: LeaderboardRow[];
  winFractions: WinFractionMatrix;
  totalVotes: number;
  anchor: RatingAnchor;
  bootstrap: { rounds: number; seed: number; confidence: number };
  priorStrength: number;
  /** False if the fit on all votes stopped at its iteration cap (never seen in practice). */
  converged: boolean;
}

/** The leaderboard of these votes. */
export function buildLeaderboard(votes: readonly ArenaVote[], options: LeaderboardOptions = {}): Leaderboard {
  const priorStrength = options.priorStrength ?? DEFAULT_PRIOR_STRENGTH;
  const counts = aggregateVotes(votes);
  const result = bootstrapPairCounts(counts, {
    rounds: options.bootstrapRounds ?? DEFAULT_BOOTSTRAP_ROUNDS,
    seed: options.seed ?? DEFAULT_BOOTSTRAP_SEED,
    priorStrength,
    ...(options.anchor === undefined ? {} : { anchor: options.anchor }),
    ...(options.meanRating === undefined ? {} : { meanRating: options.meanRating }),
  });
  const m = counts.models.length;

  const unranked = counts.models.map((model, i) => {
    let battles = 0;
    let wins = 0;
    let ties = 0;
    for (let j = 0; j < m; j++) {
      const t = counts.ties[i * m + j]!;
      battles += counts.battles[i * m + j]!;
      ties += t;
      wins += counts.score[i * m + j]! - t / 2;
    }
    const interval = result.intervals[i]!;
    return { model, index: i, rating: interval.rating, ratingLow: interval.low, ratingHigh: interval.high, battles, wins, losses: battles - wins - ties, ties };
  });
  unranked.sort((x, y) => y.rating - x.rating || compareNames(x.model, y.model));

  const rows: LeaderboardRow[] = unranked.map(({ index: _index, ...row }) => ({
    ...row,
    rank: 1 + unranked.filter((other) => other.ratingLow > row.ratingHigh).length,
  }));
  const order = unranked.map((r) => r.index);
  const winFractions: WinFractionMatrix = {
    models: unranked.map((r) => r.model),
    fractions: order.map((i) =>
      order.map((j) => {
        const n = counts.battles[i * m + j]!;
        return i === j || n === 0 ? null : counts.score[i * m + j]! / n;
      }),
    ),
    battles: order.map((i) => order.map((j) => counts.battles[i * m + j]!)),
  };

  return {
    rows,
    winFractions,
    totalVotes: votes.length,
    anchor: result.fit.anchor,
    bootstrap: { rounds: result.rounds, seed: result.seed, confidence: result.confidence },
    priorStrength,
    converged: result.fit.converged,
  };
}
