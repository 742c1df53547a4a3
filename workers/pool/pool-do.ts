/**
 * The GPU pool: one Durable Object per deployment (`env.POOL.idFromName("default")`) holding
 * membership, health, load and each worker's circuit breaker, shared by every gateway isolate.
 *
 * Records live in memory and in the object's SQLite storage, so membership survives a restart.
 * Membership changes are written at once; load-only changes at most every
 * LOAD_PERSIST_INTERVAL_MS per worker (a heartbeat a second per worker would otherwise be a row
 * write a second). An alarm wakes the object when the next worker expires or should be forgotten;
 * states are also evaluated on every read, so a late alarm never shows a dead worker as ready.
 *
 * RPC methods take an optional `at` (ms since the epoch) so tests can evaluate at a chosen time;
 * production callers leave it out and the object's clock is used.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { Heartbeat, type HeartbeatReply, ServedModel, WorkerLoad, WorkerRuntime } from "../../wire/heartbeat.js";
import type { Env } from "../env.js";
import { poolModelIds } from "../models/model-config.js";
import { parsePoolConfig, type PoolConfig } from "./pool-config.js";
import {
  type AdminAction,
  type AdminState,
  applyAdminAction,
  applyHeartbeat,
  effectiveState,
  heartbeatReply,
  isPrunable,
  nextAlarmAt,
  recordFailure,
  recordSuccess,
  restoreRecord,
  shouldPersist,
  workerView,
  type WorkerRecord,
} from "./pool-state.js";
import { desiredReplicas, type ModelReplicas } from "./replicas.js";
import type { WorkerState } from "./routing.js";

/** One worker as the pool reports it. */
export interface PoolWorker {
  id: string;
  url: string;
  models: ServedModel[];
  /** vLLM and its version, or the simulator; absent when the agent could not tell. */
  runtime?: WorkerRuntime;
  state: WorkerState;
  healthy: boolean;
  agentState: "ready" | "draining";
  adminState: AdminState;
  load: WorkerLoad;
  joinedAt: number;
  lastHeartbeatAt: number;
  consecutiveFailures: number;
  totalFailures: number;
  cooldownUntil: number;
}

/** The whole pool at one moment. */
export interface PoolSnapshot {
  takenAt: number;
  heartbeatIntervalMs: number;
  workers: PoolWorker[];
  replicas: ModelReplicas[];
}

/** A worker's circuit breaker after a reported outcome. */
export interface BreakerState {
  consecutiveFailures: number;
  cooldownUntil: number;
}

const StoredRecord = z.object({
  id: z.string(),
  url: z.string(),
  models: z.array(ServedModel),
  // Optional: records stored before workers reported their runtime read back as "unknown".
  runtime: WorkerRuntime.optional(),
  agentState: z.enum(["ready", "draining"]),
  healthy: z.boolean(),
  load: WorkerLoad,
  adminState: z.enum(["active", "cordoned", "draining"]),
  joinedAt: z.number(),
  lastHeartbeatAt: z.number(),
  consecutiveFailures: z.number(),
  totalFailures: z.number(),
  cooldownUntil: z.number(),
});

export class GpuPool extends DurableObject<Env> {
  private readonly config: PoolConfig;
  private readonly records = new Map<string, WorkerRecord>();
  private readonly lastPersistedAt = new Map<string, number>();
  private readonly configuredModels: string[];
  /** Workers whose expiry the alarm already logged, so each death is logged once. */
  private readonly announcedGone = new Set<string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = parsePoolConfig(env);
    this.configuredModels = poolModelIds(env.MODELS);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(
        "CREATE TABLE IF NOT EXISTS workers (id TEXT PRIMARY KEY, record TEXT NOT NULL)",
      );
      const now = Date.now();
      for (const row of this.ctx.storage.sql.exec<{ id: string; record: string }>("SELECT id, record FROM workers")) {
        const parsed = StoredRecord.safeParse(safeJson(row.record));
        if (!parsed.success) {
          console.error("pool: dropping unreadable stored worker", row.id);
          this.ctx.storage.sql.exec("DELETE FROM workers WHERE id = ?", row.id);
          continue;
        }
        this.records.set(row.id, restoreRecord(parsed.data, now, this.config));
        this.lastPersistedAt.set(row.id, now);
      }
      await this.scheduleAlarm(now);
    });
  }

  /** Records a heartbeat (join, refresh or rejoin) and tells the agent the state the pool holds. */
  async heartbeat(input: Heartbeat, at?: number): Promise<HeartbeatReply> {
    const heartbeat = Heartbeat.parse(input);
    const now = at ?? Date.now();
    const previous = this.records.get(heartbeat.workerId);
    const next = applyHeartbeat(previous, heartbeat, now, this.config);
    this.records.set(next.id, next);
    if (shouldPersist(previous, next, this.lastPersistedAt.get(next.id) ?? 0, now)) this.persist(next, now);
    if (previous === undefined || effectiveState(previous, now, this.config) === "gone") await this.scheduleAlarm(now);
    return heartbeatReply(next, now, this.config);
  }

  /** Every known worker with its state at `at`, plus the replica recommendation per model. */
  snapshot(at?: number): PoolSnapshot {
    const now = at ?? Date.now();
    const workers = [...this.records.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((record) => this.describe(record, now));
    return {
      takenAt: now,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      workers,
      replicas: desiredReplicas(
        workers.map((worker) => workerView(worker)),
        this.configuredModels,
        this.config,
      ),
    };
  }

  /** Stops new requests to a worker; in-flight ones finish. Null for an unknown worker. */
  drain(workerId: string, at?: number): PoolWorker | null {
    return this.adminAction(workerId, "drain", at);
  }

  /** Takes a worker out of rotation without asking it to shut down. Null for an unknown worker. */
  cordon(workerId: string, at?: number): PoolWorker | null {
    return this.adminAction(workerId, "cordon", at);
  }

  /** Undoes an operator's drain or cordon. Null for an unknown worker. */
  uncordon(workerId: string, at?: number): PoolWorker | null {
    return this.adminAction(workerId, "uncordon", at);
  }

  /** Forgets a worker. If its agent is still running, its next heartbeat joins it again. */
  remove(workerId: string): boolean {
    if (!this.records.delete(workerId)) return false;
    this.lastPersistedAt.delete(workerId);
    this.announcedGone.delete(workerId);
    this.ctx.storage.sql.exec("DELETE FROM workers WHERE id = ?", workerId);
    return true;
  }

  /** Counts a failed attempt against a worker's breaker. Null for an unknown worker. */
  reportFailure(workerId: string, at?: number): BreakerState | null {
    const record = this.records.get(workerId);
    if (!record) return null;
    const now = at ?? Date.now();
    const next = recordFailure(record, now, this.config);
    this.records.set(workerId, next);
    if (next.cooldownUntil !== record.cooldownUntil || next.consecutiveFailures !== record.consecutiveFailures) {
      this.persist(next, now);
    }
    return { consecutiveFailures: next.consecutiveFailures, cooldownUntil: next.cooldownUntil };
  }

  /** Closes a worker's breaker after a successful attempt. Null for an unknown worker. */
  reportSuccess(workerId: string, at?: number): BreakerState | null {
    const record = this.records.get(workerId);
    if (!record) return null;
    const next = recordSuccess(record);
    if (next !== record) {
      this.records.set(workerId, next);
      this.persist(next, at ?? Date.now());
    }
    return { consecutiveFailures: next.consecutiveFailures, cooldownUntil: next.cooldownUntil };
  }

  /** Wakes at the next expiry: logs workers that just went, forgets long-gone ones, sleeps again. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const record of this.records.values()) {
      const gone = effectiveState(record, now, this.config) === "gone";
      if (gone && !this.announcedGone.has(record.id)) {
        this.announcedGone.add(record.id);
        console.warn(`pool: worker ${record.id} gone (no heartbeat for ${now - record.lastHeartbeatAt} ms)`);
      } else if (!gone) {
        this.announcedGone.delete(record.id);
      }
    }
    this.prune(now);
    await this.scheduleAlarm(now);
  }

  /** Prunes at a chosen time (what the alarm does at `now`); exposed for tests. */
  pruneAt(at: number): string[] {
    return this.prune(at);
  }

  private prune(now: number): string[] {
    const pruned: string[] = [];
    for (const record of this.records.values()) {
      if (isPrunable(record, now, this.config)) pruned.push(record.id);
    }
    for (const id of pruned) this.remove(id);
    return pruned;
  }

  private adminAction(workerId: string, action: AdminAction, at: number | undefined): PoolWorker | null {
    const record = this.records.get(workerId);
    if (!record) return null;
    const now = at ?? Date.now();
    const next = applyAdminAction(record, action);
    this.records.set(workerId, next);
    this.persist(next, now);
    return this.describe(next, now);
  }

  private describe(record: WorkerRecord, now: number): PoolWorker {
    return { ...record, state: effectiveState(record, now, this.config) };
  }

  private persist(record: WorkerRecord, now: number): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO workers (id, record) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record",
      record.id,
      JSON.stringify(record),
    );
    this.lastPersistedAt.set(record.id, now);
  }

  private async scheduleAlarm(now: number): Promise<void> {
    const at = nextAlarmAt(this.records.values(), now, this.config);
    if (at === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at || current < now) await this.ctx.storage.setAlarm(at);
  }
}

function safeJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The deployment's one pool object. */
export const POOL_OBJECT_NAME = "default";

/** A stub for the deployment's pool object. */
export function poolStub(env: Pick<Env, "POOL">): DurableObjectStub<GpuPool> {
  return env.POOL.get(env.POOL.idFromName(POOL_OBJECT_NAME));
}
