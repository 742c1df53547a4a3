/**
 * The routing policy: orders the eligible GPU workers for one request. Pure: the pool snapshot,
 * the clock and the random source come in; nothing is read or written elsewhere. The cluster
 * benchmark (bench/cluster.ts) drives this very function in its simulation.
 *
 * 1. Eligible = ready, serves the model, not in circuit-breaker cooldown.
 * 2. Admission: when every eligible worker's waiting queue is above the shed threshold, answer
 *    `overloaded` at once rather than queueing without bound.
 * 3. Affinity: rendezvous hashing of the conversation id (else the prompt-prefix hash) over the
 *    eligible workers pins a key to the worker that holds its KV prefix; removing a worker moves
 *    only the keys it held.
 * 4. Load gate (as SGLang's cache-aware router): the pin is broken when the pinned worker's load
 *    exceeds the least loaded one's by more than the absolute threshold AND by more than the
 *    relative factor, or when its KV cache is nearly full. Then power-of-two-choices on load.
 * 5. Failover alternatives follow by load, then rendezvous order (at most MAX_ROUTE_CANDIDATES
 *    in all).
 */
import { hashString32, rendezvousScore } from "./hashing.js";

export type WorkerState = "ready" | "draining" | "cordoned" | "unhealthy" | "gone";

/** One worker as a gateway isolate sees it: the last heartbeat plus its own in-flight count. */
export interface WorkerView {
  id: string;
  url: string;
  models: readonly string[];
  state: WorkerState;
  running: number; // from the last heartbeat
  waiting: number; // from the last heartbeat
  kvCacheUsage: number; // 0..1 from the last heartbeat
  inFlight: number; // requests this gateway isolate sent since that heartbeat snapshot
  cooldownUntil: number; // circuit-breaker cooldown end (ms epoch), 0 = none
}

/** What routing needs to know about a request. */
export interface RouteRequest {
  model: string;
  conversationId: string | null; // affinity key for conversation turns
  prefixHash: string | null; // hash of the rendered prompt's leading blocks, for plain chat completions
}

/** Thresholds of the load gate and of admission control. */
export interface RoutingOptions {
  absoluteLoadThreshold: number; // break affinity when pinned load - min load > this (SGLang-style)
  relativeLoadThreshold: number; // ... and pinned load > min load * this
  kvCacheThreshold: number; // break affinity when pinned worker's KV usage > this (0..1)
  waitingShedThreshold: number; // admission control: shed when every eligible worker's waiting > this
}

/**
 * Defaults. SGLang's router uses 64 / 1.5 on its own pending-request counter. Behind a vLLM worker
 * a request beyond max_num_seqs waits for a free slot, so queueing soon outweighs the prefill the
 * cache saves: in the cluster simulation (bench/results/cluster.md; 48 slots per worker) 8 / 1.2
 * kept p99 TTFT level with a least-loaded oracle up to 90 % load while doubling the hit rate;
 * 1.5 gave a higher hit rate at 80 % but a 45 % worse p99 at 90 %. KV above 90 % means vLLM is
 * close to preempting. Shedding at 32 waiting everywhere: about four seconds of queue on a 13B.
 */
export const DEFAULT_ROUTING_OPTIONS: RoutingOptions = {
  absoluteLoadThreshold: 8,
  relativeLoadThreshold: 1.2,
  kvCacheThreshold: 0.9,
  waitingShedThreshold: 32,
};

/** The decision: an ordered candidate list, or why there is none. */
export type RouteDecision =
  | { kind: "route"; candidates: WorkerView[]; affinity: "pinned" | "load-broken" | "none" }
  | { kind: "no-workers" } // the model exists in config but no eligible worker serves it
  | { kind: "overloaded"; retryAfterSeconds: number };

/**
 * Typical duration of one request on a worker (prefill + ~340 output tokens at ~20 ms), used
 * only to turn a queue length into a Retry-After.
 */
const ASSUMED_REQUEST_SECONDS = 8;
const MIN_RETRY_AFTER_SECONDS = 1;
const MAX_RETRY_AFTER_SECONDS = 60;

/**
 * Length cap of the candidate list: the chosen worker plus failover alternatives. Failover makes
 * a bounded number of attempts, so ordering all of 512 workers would only cost time.
 */
export const MAX_ROUTE_CANDIDATES = 8;

// Scores of workers when there is no affinity key: still a fixed, well-mixed order for ties.
const NO_KEY_HASH = 0;

/**
 * Per-decision scratch arrays, reused across calls and grown on demand. At 512 workers fresh
 * arrays per call meant ~12 KB of garbage a decision and young-generation collections inside the
 * p99. Safe because a decision runs to completion synchronously (an isolate is single-threaded)
 * and nothing from it escapes: the result holds only WorkerViews.
 */
const scratch = { eligible: new Int32Array(64), loads: new Float64Array(64), scores: new Float64Array(64) };

function ensureScratch(size: number): void {
  if (scratch.eligible.length >= size) return;
  const capacity = Math.max(size, scratch.eligible.length * 2);
  scratch.eligible = new Int32Array(capacity);
  scratch.loads = new Float64Array(capacity);
  scratch.scores = new Float64Array(capacity);
}

/** Pure: orders eligible workers for a request. No I/O; randomness and time come in. */
export function routeRequest(
  workers: readonly WorkerView[],
  request: RouteRequest,
  context: { options: RoutingOptions; now: number; random: () => number },
): RouteDecision {
  const { options, now, random } = context;
  ensureScratch(workers.length);
  const { eligible, loads, scores } = scratch;

  const key = request.conversationId ?? request.prefixHash;
  const keyHash = key === null ? NO_KEY_HASH : hashString32(key);
  let n = 0;
  let everyQueueAboveShed = true;
  let minLoad = Infinity;
  let pinned = -1;
  for (let w = 0; w < workers.length; w++) {
    const view = workers[w]!;
    if (view.state !== "ready" || view.cooldownUntil > now || !servesModel(view, request.model)) continue;
    if (!(view.waiting > options.waitingShedThreshold)) everyQueueAboveShed = false;
    const load = view.running + view.waiting + view.inFlight;
    if (load < minLoad) minLoad = load;
    const score = rendezvousScore(keyHash, workerHash(view.id));
    if (pinned < 0 || score > scores[pinned]! || (score === scores[pinned]! && view.id < workers[eligible[pinned]!]!.id)) pinned = n;
    eligible[n] = w;
    loads[n] = load;
    scores[n] = score;
    n++;
  }
  if (n === 0) return { kind: "no-workers" };
  if (everyQueueAboveShed) return { kind: "overloaded", retryAfterSeconds: retryAfterSeconds({ workers, n, options }) };

  let first: number;
  let affinity: "pinned" | "load-broken" | "none";
  const pinnedView = workers[eligible[pinned]!]!;
  if (key === null) {
    first = powerOfTwoChoices({ n, exclude: -1, random });
    affinity = "none";
  } else if (isPinBroken({ pinnedLoad: loads[pinned]!, minLoad, kvCacheUsage: pinnedView.kvCacheUsage, options })) {
    first = powerOfTwoChoices({ n, exclude: n > 1 ? pinned : -1, random });
    affinity = "load-broken";
  } else {
    first = pinned;
    affinity = "pinned";
  }

  return { kind: "route", candidates: orderCandidates({ workers, n, first }), affinity };
}

/**
 * Worker id hashes, memoised: the same few hundred ids recur in every decision and hashing them
 * afresh dominated the cost at 512 workers. A pure function's cache, bounded by clearing.
 */
const workerHashes = new Map<string, number>();
const MAX_MEMOISED_WORKER_HASHES = 65_536;

function workerHash(id: string): number {
  let h = workerHashes.get(id);
  if (h === undefined) {
    if (workerHashes.size >= MAX_MEMOISED_WORKER_HASHES) workerHashes.clear();
    h = hashString32(id);
    workerHashes.set(id, h);
  }
  return h;
}

// Most workers serve one model: skip the generic search (measurable at 512 workers).
function servesModel(w: WorkerView, model: string): boolean {
  return w.models.length === 1 ? w.models[0] === model : w.models.includes(model);
}

/** SGLang's imbalance test applied to the pinned worker, plus the KV-cache gate. */
function isPinBroken(o: { pinnedLoad: number; minLoad: number; kvCacheUsage: number; options: RoutingOptions }): boolean {
  const { pinnedLoad, minLoad, options } = o;
  const overloaded =
    pinnedLoad - minLoad > options.absoluteLoadThreshold && pinnedLoad > minLoad * options.relativeLoadThreshold;
  return overloaded || o.kvCacheUsage > options.kvCacheThreshold;
}

/**
 * Two distinct eligible workers drawn at random (never `exclude`), the less loaded one wins; equal
 * loads go to the higher rendezvous score so the choice does not depend on input order.
 */
function powerOfTwoChoices(o: { n: number; exclude: number; random: () => number }): number {
  const { loads, scores } = scratch;
  const { n, exclude } = o;
  const pool = exclude < 0 ? n : n - 1;
  if (pool <= 1) return exclude === 0 ? 1 : 0;
  const skip = (k: number): number => (exclude >= 0 && k >= exclude ? k + 1 : k);
  const a = Math.min(pool - 1, Math.floor(o.random() * pool));
  let b = Math.min(pool - 2, Math.floor(o.random() * (pool - 1)));
  if (b >= a) b++;
  const i = skip(a);
  const j = skip(b);
  if (loads[i]! !== loads[j]!) return loads[i]! < loads[j]! ? i : j;
  return scores[i]! >= scores[j]! ? i : j;
}

/**
 * `first`, then up to MAX_ROUTE_CANDIDATES - 1 others by load, then by rendezvous score (highest
 * first). A bounded top-k pass rather than a sort keeps the decision O(n) at hundreds of workers.
 */
function orderCandidates(o: { workers: readonly WorkerView[]; n: number; first: number }): WorkerView[] {
  const { eligible, loads, scores } = scratch;
  const { n, first } = o;
  const limit = Math.min(MAX_ROUTE_CANDIDATES, n) - 1;
  const best: number[] = []; // eligible positions, kept in order, at most `limit`
  const before = (i: number, j: number): boolean => loads[i]! < loads[j]! || (loads[i]! === loads[j]! && scores[i]! > scores[j]!);
  for (let i = 0; i < n && limit > 0; i++) {
    if (i === first) continue;
    if (best.length === limit && !before(i, best[limit - 1]!)) continue;
    let at = best.length === limit ? limit - 1 : best.length;
    while (at > 0 && before(i, best[at - 1]!)) {
      best[at] = best[at - 1]!;
      at--;
    }
    best[at] = i;
  }
  const candidates = [o.workers[eligible[first]!]!];
  for (const i of best) candidates.push(o.workers[eligible[i]!]!);
  return candidates;
}

/**
 * Retry-After for a shed request: the time for the shortest queue to drain back to the
 * threshold, assuming each of its worker's running slots frees once per typical request:
 * ceil((waiting - threshold + 1) * ASSUMED_REQUEST_SECONDS / max(1, running)), within 1..60 s.
 */
function retryAfterSeconds(o: { workers: readonly WorkerView[]; n: number; options: RoutingOptions }): number {
  let best = Infinity;
  for (let i = 0; i < o.n; i++) {
    const w = o.workers[scratch.eligible[i]!]!;
    const excess = w.waiting - o.options.waitingShedThreshold + 1;
    const seconds = (excess * ASSUMED_REQUEST_SECONDS) / Math.max(1, w.running);
    if (seconds < best) best = seconds;
  }
  const finite = Number.isFinite(best) ? best : MAX_RETRY_AFTER_SECONDS;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(MIN_RETRY_AFTER_SECONDS, Math.ceil(finite)));
}
