/**
 * Desired-replica recommendation per model, for whatever scales the GPUs (a SkyPilot controller,
 * a Kubernetes autoscaler). Pure: it reads worker states and loads and returns numbers.
 *
 * For each model m, over the workers serving m that are not gone (ready, draining, cordoned,
 * unhealthy: their load is demand that exists now):
 *
 *   demand_m   = Σ (running + waiting)
 *   kv_m       = Σ kvCacheUsage                      (in GPU-equivalents: 0.5 + 0.5 = one full GPU)
 *   desired_m  = clamp( max( ceil(demand_m / TARGET_CONCURRENCY),
 *                            ceil(kv_m / TARGET_KV_USAGE) ),
 *                       MIN_REPLICAS, MAX_REPLICAS )
 *
 * Queue length enters through `waiting`: a queue that builds raises demand at once, before KV
 * usage does. KV usage catches long contexts that fill memory with few sequences. Smoothing and
 * scale-down delay belong to the autoscaler acting on the number, not here.
 */
import type { PoolConfig } from "./pool-config.js";
import type { WorkerState } from "./routing.js";

/** What the formula reads from one worker. */
export interface ReplicaInput {
  state: WorkerState;
  models: readonly string[];
  running: number;
  waiting: number;
  kvCacheUsage: number;
}

/** One model's recommendation and the figures behind it. */
export interface ModelReplicas {
  model: string;
  /** Workers in state `ready` serving the model. */
  readyWorkers: number;
  /** Workers not gone serving the model (what the demand was measured on). */
  liveWorkers: number;
  running: number;
  waiting: number;
  /** Sum of KV-cache usage over live workers, in GPU-equivalents. */
  kvCacheUsage: number;
  desiredReplicas: number;
}

/** The recommendation for every model in `models` plus any model a worker serves. */
export function desiredReplicas(
  workers: readonly ReplicaInput[],
  models: readonly string[],
  config: Pick<PoolConfig, "targetConcurrencyPerWorker" | "targetKvUsage" | "minReplicas" | "maxReplicas">,
): ModelReplicas[] {
  const allModels = new Set(models);
  for (const worker of workers) for (const model of worker.models) allModels.add(model);
  return [...allModels].sort().map((model) => {
    const serving = workers.filter((worker) => worker.models.includes(model) && worker.state !== "gone");
    const running = sum(serving.map((worker) => worker.running));
    const waiting = sum(serving.map((worker) => worker.waiting));
    const kvCacheUsage = sum(serving.map((worker) => worker.kvCacheUsage));
    const byDemand = Math.ceil((running + waiting) / config.targetConcurrencyPerWorker);
    const byKv = Math.ceil(roundAway(kvCacheUsage / config.targetKvUsage));
    const desired = Math.min(config.maxReplicas, Math.max(config.minReplicas, byDemand, byKv));
    return {
      model,
      readyWorkers: serving.filter((worker) => worker.state === "ready").length,
      liveWorkers: serving.length,
      running,
      waiting,
      kvCacheUsage: roundAway(kvCacheUsage),
      desiredReplicas: desired,
    };
  });
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Drops floating-point dust (0.1 + 0.2) so ceil does not add a replica for 1e-16. */
function roundAway(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}
