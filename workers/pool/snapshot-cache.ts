/**
 * Each gateway isolate's view of the pool: the pool object's snapshot, fetched at most once per
 * SNAPSHOT_MAX_AGE_MS (concurrent callers share one fetch), plus the requests this isolate has
 * sent since each worker's last heartbeat — load the worker could not have reported yet.
 *
 * This is deliberately module-level state: one isolate serves many requests, and the cache is
 * what keeps routing off the pool object's critical path. It lives in one instance of
 * IsolateSnapshotCache below; tests build their own instances.
 */
import type { Env } from "../env.js";
import { poolStub, type BreakerState, type PoolSnapshot } from "./pool-do.js";
import { workerView } from "./pool-state.js";
import type { WorkerView } from "./routing.js";

/** How old a snapshot may be before the next caller fetches a fresh one. */
export const SNAPSHOT_MAX_AGE_MS = 1_000;
/** If the pool object cannot be reached, a snapshot up to this old is still used (then the error surfaces). */
export const STALE_SNAPSHOT_LIMIT_MS = 10_000;

type PoolEnv = Pick<Env, "POOL">;

/** Fetches the pool snapshot; replaced in tests. */
export type SnapshotSource = (env: PoolEnv) => Promise<PoolSnapshot>;

const fetchFromPool: SnapshotSource = async (env) => poolStub(env).snapshot();

/** One isolate's snapshot and in-flight bookkeeping. */
export class IsolateSnapshotCache {
  private snapshot: PoolSnapshot | null = null;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<PoolSnapshot> | null = null;
  /** workerId → (request token → start time) for requests this isolate has in flight. */
  private readonly inFlight = new Map<string, Map<number, number>>();
  private nextToken = 0;

  constructor(private readonly source: SnapshotSource = fetchFromPool) {}

  /** The pool snapshot, at most SNAPSHOT_MAX_AGE_MS old (or stale within limits if the pool is unreachable). */
  async getSnapshot(env: PoolEnv, now: number): Promise<PoolSnapshot> {
    if (this.snapshot && now - this.fetchedAt < SNAPSHOT_MAX_AGE_MS) return this.snapshot;
    this.pending ??= this.refresh(env, now).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** The routing view: every known worker with this isolate's in-flight count added. */
  async getWorkerViews(env: PoolEnv, now: number): Promise<WorkerView[]> {
    const snapshot = await this.getSnapshot(env, now);
    return snapshot.workers.map((worker) => workerView(worker, this.inFlightSince(worker.id, worker.lastHeartbeatAt)));
  }

  /** Counts a request to `workerId` as in flight; call the returned function once it ends (idempotent). */
  beginRequest(workerId: string, now: number = Date.now()): () => void {
    const token = this.nextToken++;
    let requests = this.inFlight.get(workerId);
    if (!requests) {
      requests = new Map();
      this.inFlight.set(workerId, requests);
    }
    requests.set(token, now);
    return () => {
      const current = this.inFlight.get(workerId);
      if (!current) return;
      current.delete(token);
      if (current.size === 0) this.inFlight.delete(workerId);
    };
  }

  /** Reports a failed attempt to the pool and applies the resulting breaker state here at once. */
  async reportFailure(env: PoolEnv, workerId: string, now: number): Promise<BreakerState | null> {
    const breaker = await poolStub(env).reportFailure(workerId, now);
    if (breaker) this.applyBreaker(workerId, breaker);
    return breaker;
  }

  /** Reports a success; only reaches the pool when this isolate knows the worker's breaker is not closed. */
  async reportSuccess(env: PoolEnv, workerId: string, now: number): Promise<void> {
    const worker = this.snapshot?.workers.find((candidate) => candidate.id === workerId);
    if (worker && worker.consecutiveFailures === 0 && worker.cooldownUntil === 0) return;
    const breaker = await poolStub(env).reportSuccess(workerId, now);
    if (breaker) this.applyBreaker(workerId, breaker);
  }

  private async refresh(env: PoolEnv, now: number): Promise<PoolSnapshot> {
    try {
      const snapshot = await this.source(env);
      this.snapshot = snapshot;
      this.fetchedAt = now;
      return snapshot;
    } catch (err) {
      if (this.snapshot && now - this.fetchedAt < STALE_SNAPSHOT_LIMIT_MS) {
        console.error("pool snapshot fetch failed; using the previous snapshot", err);
        return this.snapshot;
      }
      throw err;
    }
  }

  private inFlightSince(workerId: string, since: number): number {
    const requests = this.inFlight.get(workerId);
    if (!requests) return 0;
    let count = 0;
    for (const startedAt of requests.values()) if (startedAt >= since) count++;
    return count;
  }

  private applyBreaker(workerId: string, breaker: BreakerState): void {
    const worker = this.snapshot?.workers.find((candidate) => candidate.id === workerId);
    if (!worker) return;
    worker.consecutiveFailures = breaker.consecutiveFailures;
    worker.cooldownUntil = breaker.cooldownUntil;
  }
}

const isolateCache = new IsolateSnapshotCache();

/** The routing view of the pool for this isolate (see IsolateSnapshotCache). */
export function getWorkerViews(env: PoolEnv, now: number): Promise<WorkerView[]> {
  return isolateCache.getWorkerViews(env, now);
}

/** The full pool snapshot this isolate routes from (for /metrics and diagnostics). */
export function getPoolSnapshot(env: PoolEnv, now: number): Promise<PoolSnapshot> {
  return isolateCache.getSnapshot(env, now);
}

/** Counts a request to a worker as in flight in this isolate; call the result when it ends. */
export function beginRequest(workerId: string, now?: number): () => void {
  return isolateCache.beginRequest(workerId, now);
}

/** Passes a failed attempt to the pool's shared circuit breaker. */
export function reportWorkerFailure(env: PoolEnv, workerId: string, now: number = Date.now()): Promise<BreakerState | null> {
  return isolateCache.reportFailure(env, workerId, now);
}

/** Passes a successful attempt to the pool's circuit breaker (a no-op while the breaker is closed). */
export function reportWorkerSuccess(env: PoolEnv, workerId: string, now: number = Date.now()): Promise<void> {
  return isolateCache.reportSuccess(env, workerId, now);
}
