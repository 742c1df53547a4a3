/**
 * Bradley–Terry ratings for the arena, fitted by maximum likelihood. Pure: no I/O, no clock, no
 * randomness; runs the same in workerd and Node.
 *
 * Model. Each model i has a log-strength θᵢ and P(i beats j) = 1 / (1 + e^(θⱼ − θᵢ)). A vote is
 * one battle: "a" or "b" is a win, "tie" and "bothbad" both count half a win each way. Treating
 * "both are bad" as a tie is what Chatbot Arena does: the vote says nothing about which of the two
 * is better, only that they were alike.
 *
 * Fit. Votes are first aggregated into a pair-count matrix (models sorted by name, each pair's
 * score and battle count), so the fit costs O(models² × iterations) however many votes there are,
 * and the result depends only on the multiset of votes: counts are sums of halves, exact in
 * floating point, so any vote order gives the same matrix bit for bit, hence the same ratings.
 * The log-likelihood is maximized by Newton's method with a backtracking line search (it is
 * concave, so each step that increases it is safe, and Newton needs ~5–15 steps where Hunter's
 * MM algorithm needs hundreds when ratings are far apart).
 *
 * Prior. A plain MLE is infinite for a model that never lost (or never won), and undefined for
 * groups of models that never met. A tiny L2 penalty (λ/2)·Σθᵢ², λ = DEFAULT_PRIOR_STRENGTH = 0.01,
 * keeps every rating finite: it is a Normal(0, 10²) prior on each natural-log strength (σ ≈ 1,737
 * rating points), worth about a hundredth of one battle. With real data its pull on a gap is about
 * λ·θ / (battles · p(1 − p)): for 1,000 battles at 75 % wins, 0.01 · 0.55 / 187 ≈ 3e-5 log units,
 * i.e. 0.005 points. A model with no losses against one opponent lands 680 points above it after
 * one win, 1,117 after 20, 1,363 after 100 — finite, growing with the evidence, ordered as the data
 * says.
 *
 * Scale. Ratings are Elo-like points: rating = base + (400 / ln 10)·θ, so 400 points is a factor
 * of 10 in odds (a 75 % win rate is 400·log₁₀3 ≈ 190.8 points). Anchor: by default the mean rating
 * is exactly 1000; with `anchor: { model, rating }` that model gets exactly that rating (and when it
 * has no votes, the mean anchor applies and the result says so).
 */

/** One human vote as the fit sees it. */
export interface ArenaVote {
  modelA: string;
  modelB: string;
  /** "tie" and "bothbad" both count as half a win each way. */
  winner: ArenaWinner;
}

export type ArenaWinner = "a" | "b" | "tie" | "bothbad";

/**
 * Votes aggregated per pair of models. `models` are sorted by code unit order (not locale, so the
 * order is the same in every runtime). Row-major M×M arrays: `score[i*M + j]` is i's wins over j
 * plus half their ties; `battles[i*M + j]` (= `battles[j*M + i]`) is how many votes they share,
 * `ties[i*M + j]` (symmetric too) how many of those were "tie" or "bothbad". The fit reads only
 * score and battles; ties let the bootstrap and the leaderboard split wins from ties.
 */
export interface PairCounts {
  models: readonly string[];
  score: Float64Array;
  battles: Float64Array;
  ties: Float64Array;
}

/** Where the rating scale is pinned. */
export type RatingAnchor = { kind: "mean"; rating: number } | { kind: "model"; model: string; rating: number };

export interface FitOptions {
  /** L2 penalty λ on the natural-log strengths; default DEFAULT_PRIOR_STRENGTH. Must be > 0. */
  priorStrength?: number;
  /** Pin this model's rating; when it has no votes the mean anchor (1000) applies instead. */
  anchor?: { model: string; rating: number };
  /** Rating of the mean model when no model anchor applies; default 1000. */
  meanRating?: number;
  /** Stop when no log-strength moved by more than this in a Newton step; default DEFAULT_TOLERANCE. */
  tolerance?: number;
  /** Give up (converged: false) after this many Newton steps; default DEFAULT_MAX_ITERATIONS. */
  maxIterations?: number;
}

export interface BradleyTerryFit {
  /** Sorted model names; `ratings[i]` belongs to `models[i]`. */
  models: readonly string[];
  /** Elo-like points, anchored as `anchor` says. */
  ratings: Float64Array;
  /** Natural-log strengths as fitted (sum to zero), before scaling and anchoring. */
  logStrengths: Float64Array;
  anchor: RatingAnchor;
  /** Newton steps taken. */
  iterations: number;
  converged: boolean;
}

/** λ: Normal(0, 10²) on each natural-log strength; see the module comment for why it barely matters. */
export const DEFAULT_PRIOR_STRENGTH = 0.01;
/** Largest Newton step at convergence, in natural-log units: 1e-9 is 2e-7 rating points. */
export const DEFAULT_TOLERANCE = 1e-9;
/** Newton converges quadratically; 100 steps is far beyond what any data set here needs. */
export const DEFAULT_MAX_ITERATIONS = 100;
export const DEFAULT_MEAN_RATING = 1000;
/** Rating points per natural-log unit of strength: 400 points per factor of 10 in odds. */
export const POINTS_PER_LOG_UNIT = 400 / Math.LN10;

/** Half a win each way for both kinds of tie; a whole win for "a" or "b". */
export function scoreOfA(winner: ArenaWinner): number {
  switch (winner) {
    case "a":
      return 1;
    case "b":
      return 0;
    case "tie":
    case "bothbad":
      return 0.5;
  }
}

/** Code-unit order, identical in every JS runtime (localeCompare depends on ICU data). */
export function compareNames(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The sorted, distinct model names of the votes, plus any `extraModels` (listed even with no votes). */
export function modelsOf(votes: readonly ArenaVote[], extraModels: readonly string[] = []): string[] {
  const names = new Set<string>(extraModels);
  for (const v of votes) {
    names.add(v.modelA);
    names.add(v.modelB);
  }
  return [...names].sort(compareNames);
}

/** Aggregates votes into pair counts; throws on a vote of a model against itself. */
export function aggregateVotes(votes: readonly ArenaVote[], extraModels: readonly string[] = []): PairCounts {
  const models = modelsOf(votes, extraModels);
  const m = models.length;
  const index = new Map(models.map((name, i) => [name, i]));
  const score = new Float64Array(m * m);
  const battles = new Float64Array(m * m);
  const ties = new Float64Array(m * m);
  for (const v of votes) {
    const a = index.get(v.modelA)!;
    const b = index.get(v.modelB)!;
    if (a === b) throw new RangeError(`a vote pits "${v.modelA}" against itself`);
    const s = scoreOfA(v.winner);
    score[a * m + b]! += s;
    score[b * m + a]! += 1 - s;
    battles[a * m + b]! += 1;
    battles[b * m + a]! += 1;
    if (s === 0.5) {
      ties[a * m + b]! += 1;
      ties[b * m + a]! += 1;
    }
  }
  return { models, score, battles, ties };
}

/** Fits ratings to votes: aggregates, then `fitPairCounts`. */
export function fitBradleyTerry(votes: readonly ArenaVote[], options: FitOptions = {}): BradleyTerryFit {
  return fitPairCounts(aggregateVotes(votes), options);
}

/** log σ(x) = −log(1 + e^(−x)), written so neither branch overflows. */
function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** The penalized log-likelihood the fit maximizes. */
function penalizedLogLikelihood(counts: PairCounts, theta: Float64Array, lambda: number): number {
  const m = counts.models.length;
  let ll = 0;
  for (let i = 0; i < m; i++) {
    ll -= 0.5 * lambda * theta[i]! * theta[i]!;
    for (let j = i + 1; j < m; j++) {
      if (counts.battles[i * m + j] === 0) continue;
      const d = theta[i]! - theta[j]!;
      ll += counts.score[i * m + j]! * logSigmoid(d) + counts.score[j * m + i]! * logSigmoid(-d);
    }
  }
  return ll;
}

/**
 * Solves A·x = b in place for a symmetric positive definite A (row-major n×n) by Cholesky; A is
 * overwritten by its factor and b by x. A = λI + a weighted graph Laplacian is positive definite
 * for any λ > 0, so no pivoting is needed.
 */
function solveSpd(a: Float64Array, b: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= a[j * n + k]! * a[j * n + k]!;
    const ljj = Math.sqrt(d);
    a[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!;
      a[i * n + j] = s / ljj;
    }
  }
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= a[i * n + k]! * b[k]!;
    b[i] = s / a[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= a[k * n + i]! * b[k]!;
    b[i] = s / a[i * n + i]!;
  }
}

/** Fits ratings to aggregated pair counts by penalized maximum likelihood (Newton + line search). */
export function fitPairCounts(counts: PairCounts, options: FitOptions = {}): BradleyTerryFit {
  const lambda = options.priorStrength ?? DEFAULT_PRIOR_STRENGTH;
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  if (!(lambda > 0) || !Number.isFinite(lambda)) throw new RangeError("priorStrength must be a finite number > 0");
  if (!(tolerance > 0)) throw new RangeError("tolerance must be > 0");
  if (!Number.isInteger(maxIterations) || maxIterations < 1) throw new RangeError("maxIterations must be an integer ≥ 1");

  const m = counts.models.length;
  const theta = new Float64Array(m);
  const trial = new Float64Array(m);
  const step = new Float64Array(m);
  const hessian = new Float64Array(m * m);
  let ll = penalizedLogLikelihood(counts, theta, lambda);
  let iterations = 0;
  let converged = m === 0;

  while (!converged && iterations < maxIterations) {
    iterations++;
    // Gradient g and negated Hessian A = λI + Σ_pairs n·p(1−p)·(eᵢ − eⱼ)(eᵢ − eⱼ)ᵀ.
    hessian.fill(0);
    for (let i = 0; i < m; i++) {
      step[i] = -lambda * theta[i]!;
      hessian[i * m + i] = lambda;
    }
    for (let i = 0; i < m; i++) {
      for (let j = i + 1; j < m; j++) {
        const n = counts.battles[i * m + j]!;
        if (n === 0) continue;
        const p = sigmoid(theta[i]! - theta[j]!);
        const g = counts.score[i * m + j]! - n * p;
        step[i]! += g;
        step[j]! -= g;
        const w = n * p * (1 - p);
        hessian[i * m + i]! += w;
        hessian[j * m + j]! += w;
        hessian[i * m + j]! -= w;
        hessian[j * m + i]! -= w;
      }
    }
    solveSpd(hessian, step, m);

    // Backtrack until the objective does not decrease: a full Newton step can overshoot when the
    // data are nearly separable (a model that almost always wins).
    let t = 1;
    let nextLl = -Infinity;
    for (let halvings = 0; halvings < 40; halvings++, t /= 2) {
      for (let i = 0; i < m; i++) trial[i] = theta[i]! + t * step[i]!;
      nextLl = penalizedLogLikelihood(counts, trial, lambda);
      if (nextLl >= ll) break;
    }
    let largest = 0;
    for (let i = 0; i < m; i++) largest = Math.max(largest, Math.abs(t * step[i]!));
    if (nextLl >= ll) {
      theta.set(trial);
      ll = nextLl;
    }
    // A step too small to move the objective is convergence at floating-point precision.
    converged = largest < tolerance || nextLl < ll;
  }

  // At the optimum Σθ = 0 exactly in theory (the penalty's gradient is the only part that does not
  // cancel over pairs); remove the rounding residue so the mean anchor holds to the last digit.
  let sum = 0;
  for (let i = 0; i < m; i++) sum += theta[i]!;
  for (let i = 0; i < m; i++) theta[i]! -= sum / m;

  const { ratings, anchor } = scaleRatings(counts.models, theta, options);
  return { models: counts.models, ratings, logStrengths: theta, anchor, iterations, converged };
}

/** Log-strengths to anchored Elo-like points. */
export function scaleRatings(
  models: readonly string[],
  logStrengths: Float64Array,
  options: Pick<FitOptions, "anchor" | "meanRating">,
): { ratings: Float64Array; anchor: RatingAnchor } {
  const m = models.length;
  const ratings = new Float64Array(m);
  let mean = 0;
  for (let i = 0; i < m; i++) {
    ratings[i] = POINTS_PER_LOG_UNIT * logStrengths[i]!;
    mean += ratings[i]! / m;
  }
  const anchorIndex = options.anchor === undefined ? -1 : models.indexOf(options.anchor.model);
  let anchor: RatingAnchor;
  let shift: number;
  if (options.anchor !== undefined && anchorIndex >= 0) {
    anchor = { kind: "model", model: options.anchor.model, rating: options.anchor.rating };
    shift = options.anchor.rating - ratings[anchorIndex]!;
  } else {
    anchor = { kind: "mean", rating: options.meanRating ?? DEFAULT_MEAN_RATING };
    shift = anchor.rating - mean;
  }
  for (let i = 0; i < m; i++) ratings[i]! += shift;
  if (anchorIndex >= 0) ratings[anchorIndex] = anchor.rating; // exact, not anchor ± rounding
  return { ratings, anchor };
}

/** P(a beats b) implied by two ratings on this scale (ties as half). */
export function expectedScore(ratingA: number, ratingB: number): number {
  return 1 / (1 + 10 ** ((ratingB - ratingA) / 400));
}
