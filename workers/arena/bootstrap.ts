/**
 * 95 % confidence intervals for arena ratings by a seeded bootstrap over battles. Pure and
 * reproducible: the same votes (in any order), seed and round count give the same intervals.
 *
 * Each round draws as many votes as there are, with replacement, refits, and anchors the ratings
 * the way the point estimate is anchored; the interval is the 2.5th and 97.5th percentile of a
 * model's ratings over the rounds (linear interpolation between ranks). With a model anchor, that
 * model's interval collapses to its anchor rating and the others measure distance from it; with
 * the mean anchor every interval is relative to the field's mean (as Chatbot Arena reports).
 *
 * Cost: a vote is one of 3 outcomes of one of M(M−1)/2 pairs, so the votes are first reduced to
 * those categories, laid out in a canonical order (which is what makes the result independent of
 * the input order). A round is then n uniform draws into that table plus one fit on M×M counts.
 * Every model keeps its place in every round: one whose votes all miss a round is held at the
 * prior's centre (the field's mean) for that round, which only happens with a handful of votes.
 */
import {
  aggregateVotes,
  fitPairCounts,
  type ArenaVote,
  type BradleyTerryFit,
  type FitOptions,
  type PairCounts,
} from "./bradley-terry.js";

/** A seeded source of uniform floats in [0, 1). */
export type RandomSource = () => number;

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): tiny, fast, passes the statistical tests that
 * matter for resampling, and identical in every JS runtime. Not for secrets.
 */
export function mulberry32(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BootstrapOptions extends FitOptions {
  /** Resampling rounds; default DEFAULT_BOOTSTRAP_ROUNDS, at least MIN_BOOTSTRAP_ROUNDS. */
  rounds?: number;
  /** PRNG seed (any integer, taken mod 2³²); default DEFAULT_BOOTSTRAP_SEED. */
  seed?: number;
  /** Two-sided coverage of the interval; default 0.95. */
  confidence?: number;
}

export interface RatingInterval {
  model: string;
  /** The point estimate on all votes. */
  rating: number;
  low: number;
  high: number;
}

export interface BootstrapResult {
  /** The fit on all votes (the point estimates). */
  fit: BradleyTerryFit;
  /** One per model, in `fit.models` order. */
  intervals: RatingInterval[];
  rounds: number;
  seed: number;
  confidence: number;
  /** Rounds whose fit stopped at maxIterations (0 in practice; reported rather than hidden). */
  unconvergedRounds: number;
}

export const DEFAULT_BOOTSTRAP_ROUNDS = 100;
/** Fewer rounds put the 2.5 % tail on two or three samples: too noisy to call a 95 % interval. */
export const MIN_BOOTSTRAP_ROUNDS = 100;
export const DEFAULT_BOOTSTRAP_SEED = 42;

/** Outcome categories per pair (i < j in sorted order): i won, j won, tie (either kind). */
const OUTCOMES = 3;

/** Point estimates and bootstrap confidence intervals for the votes' models. */
export function bootstrapRatings(votes: readonly ArenaVote[], options: BootstrapOptions = {}): BootstrapResult {
  return bootstrapPairCounts(aggregateVotes(votes), options);
}

/**
 * The same from aggregated counts: resampling battles from the per-pair win/loss/tie counts is
 * resampling the votes themselves, since a vote is nothing more than its pair and outcome.
 */
export function bootstrapPairCounts(counts: PairCounts, options: BootstrapOptions = {}): BootstrapResult {
  const rounds = options.rounds ?? DEFAULT_BOOTSTRAP_ROUNDS;
  const seed = options.seed ?? DEFAULT_BOOTSTRAP_SEED;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(rounds) || rounds < MIN_BOOTSTRAP_ROUNDS) throw new RangeError(`rounds must be an integer ≥ ${MIN_BOOTSTRAP_ROUNDS}`);
  if (!Number.isInteger(seed)) throw new RangeError("seed must be an integer");
  if (!(confidence > 0 && confidence < 1)) throw new RangeError("confidence must be between 0 and 1");

  const fit = fitPairCounts(counts, options);
  const m = counts.models.length;
  let n = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) n += counts.battles[i * m + j]!;

  // Category c = (pair p, outcome o) = p·3 + o, where pairs (i < j) are numbered row by row; the
  // table lists each category as many times as it has votes, in that canonical order.
  const pairI: number[] = [];
  const pairJ: number[] = [];
  const categoryOfDraw = new Uint32Array(n);
  let filled = 0;
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      const battles = counts.battles[i * m + j]!;
      if (battles === 0) continue;
      const p = pairI.length;
      pairI.push(i);
      pairJ.push(j);
      const ties = counts.ties[i * m + j]!;
      const winsI = counts.score[i * m + j]! - ties / 2;
      const winsJ = counts.score[j * m + i]! - ties / 2;
      categoryOfDraw.fill(p * OUTCOMES, filled, filled + winsI);
      filled += winsI;
      categoryOfDraw.fill(p * OUTCOMES + 1, filled, filled + winsJ);
      filled += winsJ;
      categoryOfDraw.fill(p * OUTCOMES + 2, filled, filled + ties);
      filled += ties;
    }
  }

  const random = mulberry32(seed);
  const drawn = new Uint32Array(pairI.length * OUTCOMES);
  const resampled: PairCounts = { models: counts.models, score: new Float64Array(m * m), battles: new Float64Array(m * m), ties: new Float64Array(m * m) };
  const samples = Array.from({ length: m }, () => new Float64Array(rounds));
  let unconvergedRounds = 0;

  for (let r = 0; r < rounds; r++) {
    drawn.fill(0);
    for (let k = 0; k < n; k++) drawn[categoryOfDraw[Math.floor(random() * n)]!]!++;
    resampled.score.fill(0);
    resampled.battles.fill(0);
    for (let p = 0; p < pairI.length; p++) {
      const i = pairI[p]!;
      const j = pairJ[p]!;
      const winsI = drawn[p * OUTCOMES]!;
      const winsJ = drawn[p * OUTCOMES + 1]!;
      const ties = drawn[p * OUTCOMES + 2]!;
      resampled.score[i * m + j] = winsI + ties / 2;
      resampled.score[j * m + i] = winsJ + ties / 2;
      resampled.battles[i * m + j] = resampled.battles[j * m + i] = winsI + winsJ + ties;
      resampled.ties[i * m + j] = resampled.ties[j * m + i] = ties;
    }
    const roundFit = fitPairCounts(resampled, options);
    if (!roundFit.converged) unconvergedRounds++;
    for (let i = 0; i < m; i++) samples[i]![r] = roundFit.ratings[i]!;
  }

  const tail = (1 - confidence) / 2;
  const intervals = counts.models.map((model, i) => {
    const sorted = samples[i]!.sort();
    return { model, rating: fit.ratings[i]!, low: quantileSorted(sorted, tail), high: quantileSorted(sorted, 1 - tail) };
  });
  return { fit, intervals, rounds, seed, confidence, unconvergedRounds };
}

/** The q-quantile of ascending values, interpolating linearly between ranks (numpy's default). */
function quantileSorted(sorted: Float64Array, q: number): number {
  const rank = q * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}
