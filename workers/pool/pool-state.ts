/**
 * Pure pool membership logic: what a heartbeat, an operator action, a reported failure or the
 * passing of time does to one worker's record, and which state the record is in at a given
 * moment. No I/O and no clock: every function takes `now` (ms since the epoch).
 *
 * State is derived, not stored: the record keeps facts (last heartbeat, what the agent asked
 * for, what an operator decided, health) and `effectiveState` reads them at `now`. So expiry is
 * exact whether the pool object evaluates it from an alarm or lazily on a read.
 */
import type { Heartbeat, HeartbeatReply, ServedModel, WorkerLoad, WorkerRuntime } from "../../wire/heartbeat.js";
import type { PoolConfig } from "./pool-config.js";
import type { WorkerState, WorkerView } from "./routing.js";

/** What an operator decided for a worker; `active` means no decision. */
export type AdminState = "active" | "cordoned" | "draining";

/** Everything the pool keeps about one worker. */
export interface WorkerRecord {
  id: string;
  url: string;
  models: ServedModel[];
  /** vLLM and its version, or the simulator; absent when the agent could not read `GET /version`. */
  runtime?: WorkerRuntime;
  /** What the agent asked for on its last heartbeat. */
  agentState: "ready" | "draining";
  /** vLLM's /health on the agent's last poll. */
  healthy: boolean;
  load: WorkerLoad;
  adminState: AdminState;
  /** When this worker (re)joined: its first heartbeat, or the first after it was gone. */
  joinedAt: number;
  lastHeartbeatAt: number;
  /** Circuit breaker: consecutive failures reported by gateway isolates, reset by a success. */
  consecutiveFailures: number;
  totalFailures: number;
  /** No new requests before this time (ms since the epoch); 0 when the breaker is closed. */
  cooldownUntil: number;
}

/** A worker silent for two intervals (one beat missed, with slack for a late one) is unhealthy. */
export const UNHEALTHY_AFTER_INTERVALS = 2;
/** A worker with no heartbeat for three intervals is gone. */
export const GONE_AFTER_INTERVALS = 3;
/** Gone workers stay listed (state `gone`) this long so operators can see what died, then are forgotten. */
export const GONE_RETENTION_MS = 10 * 60_000;
/** Load-only changes are written to storage at most this often per worker (membership changes at once). */
export const LOAD_PERSIST_INTERVAL_MS = 15_000;
/** Re-trips of the breaker double the cooldown, up to this many doublings (8x). */
export const MAX_COOLDOWN_DOUBLINGS = 3;

export const ZERO_LOAD: WorkerLoad = { running: 0, waiting: 0, kvCacheUsage: 0, prefixCacheHitRate: 0, tokensPerSecond: 0 };

/** The state a worker is in at `now`. Operator and agent intent outrank health: both exclude it. */
export function effectiveState(record: WorkerRecord, now: number, config: PoolConfig): WorkerState {
  const silentMs = now - record.lastHeartbeatAt;
  if (silentMs > GONE_AFTER_INTERVALS * config.heartbeatIntervalMs) return "gone";
  if (record.agentState === "draining" || record.adminState === "draining") return "draining";
  if (record.adminState === "cordoned") return "cordoned";
  if (!record.healthy || silentMs > UNHEALTHY_AFTER_INTERVALS * config.heartbeatIntervalMs) return "unhealthy";
  return "ready";
}

/** The record after a heartbeat. A worker that was gone (or changed URL) rejoins with a fresh breaker. */
export function applyHeartbeat(
  previous: WorkerRecord | undefined,
  heartbeat: Heartbeat,
  now: number,
  config: PoolConfig,
): WorkerRecord {
  const rejoining =
    previous === undefined || effectiveState(previous, now, config) === "gone" || previous.url !== heartbeat.url;
  const base = {
    id: heartbeat.workerId,
    url: heartbeat.url,
    models: heartbeat.models,
    runtime: heartbeat.runtime,
    agentState: heartbeat.state,
    healthy: heartbeat.healthy,
    load: heartbeat.load,
    lastHeartbeatAt: now,
  };
  if (rejoining) {
    return {
      ...base,
      // An operator's cordon or drain survives a restart of the worker; a URL change does not erase it either.
      adminState: previous?.adminState ?? "active",
      joinedAt: now,
      consecutiveFailures: 0,
      totalFailures: previous?.totalFailures ?? 0,
      cooldownUntil: 0,
    };
  }
  return { ...previous, ...base };
}

/** What the agent is told after its heartbeat. */
export function heartbeatReply(record: WorkerRecord, now: number, config: PoolConfig): HeartbeatReply {
  const state = effectiveState(record, now, config);
  // Just after a heartbeat the worker cannot be gone; the guard keeps the type honest.
  return { state: state === "gone" ? "unhealthy" : state, heartbeatIntervalMs: config.heartbeatIntervalMs };
}

/** Operator actions on a worker. */
export type AdminAction = "drain" | "cordon" | "uncordon";

/** The record after an operator action. Cordoning a draining worker keeps it draining; uncordon undoes both. */
export function applyAdminAction(record: WorkerRecord, action: AdminAction): WorkerRecord {
  switch (action) {
    case "drain":
      return { ...record, adminState: "draining" };
    case "cordon":
      return { ...record, adminState: record.adminState === "draining" ? "draining" : "cordoned" };
    case "uncordon":
      return { ...record, adminState: "active" };
  }
}

/**
 * The record after a gateway isolate reports a failed attempt (connect error, 5xx, no first
 * token in time). `breakerFailureThreshold` consecutive failures open the breaker for
 * `breakerCooldownMs`; after the cooldown the next attempt is a probe: one more failure re-opens
 * it for twice as long (up to 8x), a success closes it. Failures reported while the breaker is
 * open belong to the same outage (requests that started before it opened) and only count in
 * the total.
 */
export function recordFailure(record: WorkerRecord, now: number, config: PoolConfig): WorkerRecord {
  if (now < record.cooldownUntil) return { ...record, totalFailures: record.totalFailures + 1 };
  const consecutiveFailures = record.consecutiveFailures + 1;
  const base = { ...record, consecutiveFailures, totalFailures: record.totalFailures + 1 };
  if (consecutiveFailures < config.breakerFailureThreshold) return base;
  const doublings = Math.min(consecutiveFailures - config.breakerFailureThreshold, MAX_COOLDOWN_DOUBLINGS);
  return { ...base, cooldownUntil: now + config.breakerCooldownMs * 2 ** doublings };
}

/** The record after a successful attempt: the breaker closes. */
export function recordSuccess(record: WorkerRecord): WorkerRecord {
  if (record.consecutiveFailures === 0 && record.cooldownUntil === 0) return record;
  return { ...record, consecutiveFailures: 0, cooldownUntil: 0 };
}

/** Whether a heartbeat's record must be written now, or only its load changed recently enough to wait. */
export function shouldPersist(
  previous: WorkerRecord | undefined,
  next: WorkerRecord,
  lastPersistedAt: number,
  now: number,
): boolean {
  if (previous === undefined) return true;
  const membershipChanged =
    previous.url !== next.url ||
    previous.agentState !== next.agentState ||
    previous.healthy !== next.healthy ||
    previous.adminState !== next.adminState ||
    previous.joinedAt !== next.joinedAt ||
    previous.consecutiveFailures !== next.consecutiveFailures ||
    previous.cooldownUntil !== next.cooldownUntil ||
    JSON.stringify(previous.models) !== JSON.stringify(next.models) ||
    JSON.stringify(previous.runtime) !== JSON.stringify(next.runtime);
  return membershipChanged || now - lastPersistedAt >= LOAD_PERSIST_INTERVAL_MS;
}

/**
 * A record read back from storage after the pool object restarted. Its stored heartbeat time may
 * be up to LOAD_PERSIST_INTERVAL_MS old even though the agent kept beating, so a worker whose
 * stored beat is that recent gets one interval of grace instead of flapping to `gone` until its
 * next beat arrives. Anything older stays as stored.
 */
export function restoreRecord(stored: WorkerRecord, now: number, config: PoolConfig): WorkerRecord {
  const staleByPersistenceAtMost = now - stored.lastHeartbeatAt <= LOAD_PERSIST_INTERVAL_MS + GONE_AFTER_INTERVALS * config.heartbeatIntervalMs;
  if (!staleByPersistenceAtMost) return stored;
  return { ...stored, lastHeartbeatAt: Math.max(stored.lastHeartbeatAt, now - config.heartbeatIntervalMs) };
}

/** Whether a gone worker has been gone long enough to forget. */
export function isPrunable(record: WorkerRecord, now: number, config: PoolConfig): boolean {
  return now - record.lastHeartbeatAt > GONE_AFTER_INTERVALS * config.heartbeatIntervalMs + GONE_RETENTION_MS;
}

/** When the pool should next look at its records: the next expiry to `gone`, or the next prune. Null if none. */
export function nextAlarmAt(records: Iterable<WorkerRecord>, now: number, config: PoolConfig): number | null {
  let earliest: number | null = null;
  const goneAfterMs = GONE_AFTER_INTERVALS * config.heartbeatIntervalMs;
  for (const record of records) {
    const goneAt = record.lastHeartbeatAt + goneAfterMs + 1;
    const at = goneAt > now ? goneAt : goneAt + GONE_RETENTION_MS;
    if (earliest === null || at < earliest) earliest = at;
  }
  return earliest;
}

/**
 * Whether a worker URL may join. Patterns with `*` are globs anchored at both ends, where `*`
 * matches a run of characters other than `/ ? # @` (so `https://*.pool.example.com` cannot be
 * satisfied by a host elsewhere with that text in its path or userinfo); other patterns are
 * prefixes. No patterns: every URL.
 */
export function isUrlAllowed(url: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((pattern) => {
    if (!pattern.includes("*")) return url.startsWith(pattern);
    const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
    return new RegExp(`^${escaped.join("[^/?#@]*")}$`).test(url);
  });
}

/** What the pool knows of a worker at one instant: its stored fields and its effective state. */
export type DescribedWorker = Pick<WorkerRecord, "id" | "url" | "models" | "load" | "cooldownUntil"> & { state: WorkerState };

/**
 * The routing module's view of a worker (the one projection: the pool's own snapshot, each
 * isolate's routing and the replica recommendation all read it). `inFlight` is an isolate's own
 * count of requests it sent there since the worker's last heartbeat.
 */
export function workerView(worker: DescribedWorker, inFlight = 0): WorkerView {
  return {
    id: worker.id,
    url: worker.url,
    models: worker.models.map((model) => model.id),
    state: worker.state,
    running: worker.load.running,
    waiting: worker.load.waiting,
    kvCacheUsage: worker.load.kvCacheUsage,
    inFlight,
    cooldownUntil: worker.cooldownUntil,
  };
}

/** The routing module's view of a record at `now`. */
export function toWorkerView(record: WorkerRecord, now: number, config: PoolConfig): WorkerView {
  return workerView({ ...record, state: effectiveState(record, now, config) });
}
