/**
 * The pool heartbeat: what a GPU worker's agent posts to the gateway every second
 * (`POST /pool/heartbeat`, `Authorization: Bearer <POOL_TOKEN>`), and what it gets back.
 */
import { z } from "zod";

export const WorkerLoad = z.object({
  /** Requests in the running batch (vllm:num_requests_running). */
  running: z.number().int().min(0),
  /** Requests queued (vllm:num_requests_waiting). */
  waiting: z.number().int().min(0),
  /** KV-cache usage, 0..1 (vllm:kv_cache_usage_perc). */
  kvCacheUsage: z.number().min(0).max(1),
  /** Prefix-cache hits / queries since the previous heartbeat, 0..1. */
  prefixCacheHitRate: z.number().min(0).max(1),
  /** Generation tokens per second since the previous heartbeat. */
  tokensPerSecond: z.number().min(0),
});
export type WorkerLoad = z.infer<typeof WorkerLoad>;

export const ServedModel = z.object({
  id: z.string().min(1).max(128),
  maxModelLen: z.number().int().min(1),
});
export type ServedModel = z.infer<typeof ServedModel>;

/**
 * What serves the worker's models, as the agent learned it from the server's `GET /version`:
 * a real vLLM (`{"version":"0.18.1"}`) or the Altiplano simulator, which answers
 * `{"version":"…","simulator":true}` so it is never mistaken for a model.
 */
export const WorkerRuntime = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("vllm"), version: z.string().min(1).max(64) }),
  z.object({ kind: z.literal("simulator"), version: z.string().min(1).max(64) }),
]);
export type WorkerRuntime = z.infer<typeof WorkerRuntime>;

export const Heartbeat = z.object({
  workerId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
  /** Base URL the gateway uses to reach this worker's vLLM (`…/v1/completions` is appended). */
  url: z.string().url().max(512),
  models: z.array(ServedModel).min(1).max(16),
  /** What the agent asks for: `ready`, or `draining` when it is shutting down. */
  state: z.enum(["ready", "draining"]),
  /** Whether vLLM's /health answered 200 on the last poll. */
  healthy: z.boolean(),
  load: WorkerLoad,
  /** Absent when the agent could not read `GET /version` (the pool shows "unknown"). */
  runtime: WorkerRuntime.optional(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

export const HeartbeatReply = z.object({
  /** The state the pool holds for this worker (an operator may have cordoned it). */
  state: z.enum(["ready", "draining", "cordoned", "unhealthy"]),
  /** How often the pool expects a heartbeat. */
  heartbeatIntervalMs: z.number().int().min(1),
});
export type HeartbeatReply = z.infer<typeof HeartbeatReply>;
