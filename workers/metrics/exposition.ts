/**
 * What GET /metrics shows, as metric families: pool gauges from the pool snapshot (per worker and
 * per model) and the gateway's own counters summed across isolates. Pure: inputs in, families out.
 *
 * Label sets stay bounded: `worker` is a pool member's id (gone workers are pruned), `model` a
 * configured or served model id, `outcome` and `reason` fixed lists.
 */
import type { PoolSnapshot, PoolWorker } from "../pool/pool-do.js";
import type { WorkerState } from "../pool/routing.js";
import { emptyHistogram, TTFT_BUCKETS_SECONDS } from "./histogram.js";
import type { MetricFamily, Sample } from "./prometheus.js";
import { OUTCOMES, REFUSAL_REASONS, type ModelTotals, type Totals } from "./totals.js";

export const WORKER_STATES: readonly WorkerState[] = ["ready", "draining", "cordoned", "unhealthy", "gone"];

export interface ExpositionInput {
  totals: Totals;
  /** The pool as this isolate routes from it; null when the pool object could not be reached. */
  snapshot: PoolSnapshot | null;
  /** Configured model ids: their counters are listed (as zeros) before the first request. */
  models: readonly string[];
  now: number;
}

function gauge(name: string, help: string, samples: Sample[]): MetricFamily {
  return { name, help, type: "gauge", samples };
}

function counter(name: string, help: string, samples: Sample[]): MetricFamily {
  return { name, help, type: "counter", samples };
}

function perWorker(workers: readonly PoolWorker[], value: (worker: PoolWorker) => number): Sample[] {
  return workers.map((worker) => ({ labels: { worker: worker.id }, value: value(worker) }));
}

function poolFamilies(snapshot: PoolSnapshot | null, now: number): MetricFamily[] {
  const workers = snapshot?.workers ?? [];
  const replicas = snapshot?.replicas ?? [];
  return [
    gauge("altiplano_pool_up", "1 if the pool snapshot was readable for this scrape, else 0 (pool gauges are then absent).", [
      { labels: {}, value: snapshot ? 1 : 0 },
    ]),
    gauge(
      "altiplano_pool_snapshot_age_seconds",
      "Age of the pool snapshot these gauges come from (the gateway routes from snapshots at most about a second old).",
      snapshot ? [{ labels: {}, value: Math.max(0, now - snapshot.takenAt) / 1000 }] : [],
    ),
    gauge(
      "altiplano_worker_state",
      "Pool state of each GPU worker: 1 for its current state, 0 for the others.",
      workers.flatMap((worker) => WORKER_STATES.map((state) => ({ labels: { worker: worker.id, state }, value: worker.state === state ? 1 : 0 }))),
    ),
    gauge(
      "altiplano_worker_model_info",
      "Models each GPU worker serves (value always 1).",
      workers.flatMap((worker) => worker.models.map((model) => ({ labels: { worker: worker.id, model: model.id }, value: 1 }))),
    ),
    gauge("altiplano_worker_requests_running", "Requests in the worker's running batch, as last reported by its agent.", perWorker(workers, (w) => w.load.running)),
    gauge("altiplano_worker_requests_waiting", "Requests queued on the worker, as last reported by its agent.", perWorker(workers, (w) => w.load.waiting)),
    gauge("altiplano_worker_kv_cache_usage_ratio", "Share of the worker's KV cache in use (0..1).", perWorker(workers, (w) => w.load.kvCacheUsage)),
    gauge(
      "altiplano_worker_prefix_cache_hit_ratio",
      "Prefix-cache hits over queries on the worker since its previous heartbeat (0..1).",
      perWorker(workers, (w) => w.load.prefixCacheHitRate),
    ),
    gauge(
      "altiplano_worker_generation_tokens_per_second",
      "Tokens the worker generated per second since its previous heartbeat.",
      perWorker(workers, (w) => w.load.tokensPerSecond),
    ),
    gauge(
      "altiplano_worker_consecutive_failures",
      "Failed attempts on the worker since its last success (the circuit breaker's count).",
      perWorker(workers, (w) => w.consecutiveFailures),
    ),
    counter("altiplano_worker_failures_total", "Failed attempts on the worker since it joined the pool.", perWorker(workers, (w) => w.totalFailures)),
    gauge(
      "altiplano_worker_heartbeat_age_seconds",
      "Seconds since the worker's last heartbeat reached the pool.",
      perWorker(workers, (w) => Math.max(0, now - w.lastHeartbeatAt) / 1000),
    ),
    gauge("altiplano_model_ready_workers", "Workers in state ready serving the model.", replicas.map((r) => ({ labels: { model: r.model }, value: r.readyWorkers }))),
    gauge(
      "altiplano_model_live_workers",
      "Workers not gone serving the model (ready, draining, cordoned or unhealthy).",
      replicas.map((r) => ({ labels: { model: r.model }, value: r.liveWorkers })),
    ),
    gauge("altiplano_model_requests_running", "Running requests summed over the model's live workers.", replicas.map((r) => ({ labels: { model: r.model }, value: r.running }))),
    gauge("altiplano_model_requests_waiting", "Queued requests summed over the model's live workers.", replicas.map((r) => ({ labels: { model: r.model }, value: r.waiting }))),
    gauge(
      "altiplano_model_kv_cache_usage",
      "KV-cache usage summed over the model's live workers, in GPU-equivalents.",
      replicas.map((r) => ({ labels: { model: r.model }, value: r.kvCacheUsage })),
    ),
    gauge(
      "altiplano_desired_replicas",
      "Recommended number of GPU workers for the model, from queue length and KV-cache use (gpu-backend/deploy/README.md).",
      replicas.map((r) => ({ labels: { model: r.model }, value: r.desiredReplicas })),
    ),
  ];
}

function gatewayFamilies(totals: Totals, configuredModels: readonly string[]): MetricFamily[] {
  const models = [...new Set([...configuredModels, ...Object.keys(totals.models)])].sort();
  const entries: Array<[string, ModelTotals | undefined]> = models.map((model) => [model, totals.models[model]]);
  const perModel = (value: (entry: ModelTotals) => number): Sample[] =>
    entries.map(([model, entry]) => ({ labels: { model }, value: entry ? value(entry) : 0 }));
  return [
    counter(
      "altiplano_requests_total",
      "Generations by how they ended: complete, length (max_tokens reached), cancelled (client left), failed.",
      entries.flatMap(([model, entry]) => OUTCOMES.map((outcome) => ({ labels: { model, outcome }, value: entry?.requests[outcome] ?? 0 }))),
    ),
    counter(
      "altiplano_requests_refused_total",
      "Requests refused before any generation: rate limits and quotas (429), no ready worker, saturation or an unreachable pool or limiter (503).",
      REFUSAL_REASONS.map((reason) => ({ labels: { reason }, value: totals.refused[reason] ?? 0 })),
    ),
    counter("altiplano_failovers_total", "Attempts moved to another worker, before or during a stream.", perModel((e) => e.failovers)),
    counter("altiplano_prompt_tokens_total", "Prompt tokens sent to GPU workers by finished generations.", perModel((e) => e.promptTokens)),
    counter("altiplano_generated_tokens_total", "Tokens generated (completion tokens), counted when a generation ends.", perModel((e) => e.generatedTokens)),
    {
      name: "altiplano_time_to_first_token_seconds",
      help: "Time from the gateway starting a generation to its first text, failovers included (generations with no text are not observed).",
      type: "histogram",
      samples: entries.map(([model, entry]) => {
        const ttft = entry?.ttft ?? emptyHistogram(TTFT_BUCKETS_SECONDS);
        return { labels: { model }, bounds: TTFT_BUCKETS_SECONDS, buckets: ttft.buckets, sum: ttft.sum };
      }),
    },
  ];
}

/** Every family GET /metrics renders, pool gauges first. */
export function buildFamilies(input: ExpositionInput): MetricFamily[] {
  return [...poolFamilies(input.snapshot, input.now), ...gatewayFamilies(input.totals, input.models)];
}
