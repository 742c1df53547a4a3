/**
 * `GET /admin/pool` as the dashboard reads it, with zod's `mini` build like the other pages, and
 * checked against wire/pool-admin.ts at compile time (SameShape). `runtime` (what serves a
 * worker: vLLM and its version, or the simulator) is optional here so the page works with
 * gateways that do not report it yet.
 */
import * as z from "zod/mini";
import type { AdminPool, AdminPoolModel, AdminPoolWorker } from "../../../wire/pool-admin.js";
import type { SameShape } from "../../../wire/openai.js";

export type { PoolWorkerState } from "../../../wire/pool-admin.js";

export const PoolWorkerSchema = z.object({
  object: z.literal("pool.worker"),
  id: z.string(),
  url: z.string(),
  state: z.enum(["ready", "draining", "cordoned", "unhealthy", "gone"]),
  healthy: z.boolean(),
  agent_state: z.enum(["ready", "draining"]),
  admin_state: z.enum(["active", "cordoned", "draining"]),
  models: z.array(z.object({ id: z.string(), maxModelLen: z.number() })),
  load: z.object({
    running: z.number(),
    waiting: z.number(),
    kv_cache_usage: z.number(),
    prefix_cache_hit_rate: z.number(),
    tokens_per_second: z.number(),
  }),
  joined_at: z.number(),
  last_heartbeat_at: z.number(),
  last_heartbeat_age_ms: z.number(),
  consecutive_failures: z.number(),
  total_failures: z.number(),
  cooldown_until: z.number(),
  runtime: z.optional(z.object({ kind: z.enum(["vllm", "simulator", "unknown"]), version: z.nullable(z.string()) })),
});
export type PoolWorker = z.infer<typeof PoolWorkerSchema>;

export const PoolModelSchema = z.object({
  model: z.string(),
  ready_workers: z.number(),
  live_workers: z.number(),
  running: z.number(),
  waiting: z.number(),
  kv_cache_usage: z.number(),
  desired_replicas: z.number(),
});
export type PoolModel = z.infer<typeof PoolModelSchema>;

export const PoolSchema = z.object({
  object: z.literal("pool"),
  taken_at: z.number(),
  heartbeat_interval_ms: z.number(),
  workers: z.array(PoolWorkerSchema),
  models: z.array(PoolModelSchema),
});
export type Pool = z.infer<typeof PoolSchema>;

export const PoolWorkerDeletedSchema = z.object({ object: z.literal("pool.worker"), id: z.string(), deleted: z.literal(true) });

// `runtime` is compared apart from the rest: absent from the wire on older gateways.
export const POOL_SHAPES_MATCH: [
  SameShape<Omit<PoolWorker, "runtime">, Omit<AdminPoolWorker, "runtime">>,
  SameShape<PoolModel, AdminPoolModel>,
  SameShape<Omit<Pool, "workers">, Omit<AdminPool, "workers">>,
] = [true, true, true];
