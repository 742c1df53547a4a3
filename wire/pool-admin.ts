/**
 * The admin pool API (`GET /admin/pool`, worker actions) as the gateway sends it and the pool
 * CLI reads it.
 */
import { z } from "zod";
import { ServedModel, type WorkerRuntime } from "./heartbeat.js";

export const PoolWorkerState = z.enum(["ready", "draining", "cordoned", "unhealthy", "gone"]);
export type PoolWorkerState = z.infer<typeof PoolWorkerState>;

export const AdminPoolWorker = z.object({
  object: z.literal("pool.worker"),
  id: z.string(),
  url: z.string(),
  state: PoolWorkerState,
  /** vLLM's /health on the agent's last poll. */
  healthy: z.boolean(),
  /** What the agent asked for, and what an operator decided. */
  agent_state: z.enum(["ready", "draining"]),
  admin_state: z.enum(["active", "cordoned", "draining"]),
  models: z.array(ServedModel),
  /** What serves the models: `vllm` with its version, the `simulator` (never a model), or `unknown` (no `GET /version`). */
  runtime: z.object({ kind: z.enum(["vllm", "simulator", "unknown"]), version: z.string().nullable() }),
  load: z.object({
    running: z.number(),
    waiting: z.number(),
    kv_cache_usage: z.number(),
    prefix_cache_hit_rate: z.number(),
    tokens_per_second: z.number(),
  }),
  /** Milliseconds since the epoch. */
  joined_at: z.number(),
  last_heartbeat_at: z.number(),
  last_heartbeat_age_ms: z.number(),
  consecutive_failures: z.number(),
  total_failures: z.number(),
  /** Circuit-breaker cooldown end (ms since the epoch); 0 when closed. */
  cooldown_until: z.number(),
});
export type AdminPoolWorker = z.infer<typeof AdminPoolWorker>;

/** The admin view of a worker's runtime; `undefined` (the agent could not tell) is `unknown`. */
export function adminRuntime(runtime: WorkerRuntime | undefined): AdminPoolWorker["runtime"] {
  return runtime === undefined ? { kind: "unknown", version: null } : { kind: runtime.kind, version: runtime.version };
}

/** One short label for tables and dashboards: `vLLM 0.18.1`, `simulator`, `unknown`. */
export function runtimeLabel(runtime: AdminPoolWorker["runtime"]): string {
  if (runtime.kind === "vllm") return `vLLM ${runtime.version ?? "?"}`;
  return runtime.kind;
}

export const AdminPoolModel = z.object({
  model: z.string(),
  ready_workers: z.number(),
  live_workers: z.number(),
  running: z.number(),
  waiting: z.number(),
  kv_cache_usage: z.number(),
  desired_replicas: z.number(),
});
export type AdminPoolModel = z.infer<typeof AdminPoolModel>;

export const AdminPool = z.object({
  object: z.literal("pool"),
  taken_at: z.number(),
  heartbeat_interval_ms: z.number(),
  workers: z.array(AdminPoolWorker),
  models: z.array(AdminPoolModel),
});
export type AdminPool = z.infer<typeof AdminPool>;

export const AdminPoolWorkerDeleted = z.object({
  object: z.literal("pool.worker"),
  id: z.string(),
  deleted: z.literal(true),
});
