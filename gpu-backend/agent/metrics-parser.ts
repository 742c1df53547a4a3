/**
 * Pure parsing of vLLM's Prometheus text into the load a heartbeat carries. Reads the current
 * metric names and the legacy ones older vLLM versions (V0 engine, before the V1 renames) expose:
 *
 * | what                  | current                              | legacy                                   |
 * | --------------------- | ------------------------------------ | ---------------------------------------- |
 * | running / waiting     | vllm:num_requests_running / _waiting | (same)                                   |
 * | KV-cache usage 0..1   | vllm:kv_cache_usage_perc             | vllm:gpu_cache_usage_perc                |
 * | prefix-cache queries  | vllm:prefix_cache_queries_total      | vllm:gpu_prefix_cache_queries_total      |
 * | prefix-cache hits     | vllm:prefix_cache_hits_total         | vllm:gpu_prefix_cache_hits_total         |
 * | prefix-cache hit rate | (from the two counters)              | vllm:gpu_prefix_cache_hit_rate (gauge)   |
 * | generated tokens      | vllm:generation_tokens_total         | (same)                                   |
 *
 * Counters are also accepted without the `_total` suffix. When a server exposes both names (as
 * during vLLM's deprecation window) the current one wins. Several label sets of one metric (data
 * parallel engines, several models) are summed, except usage gauges, which are averaged.
 */
import type { WorkerLoad } from "../../wire/heartbeat.js";

/** One sample line: name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The raw figures one scrape gives; null when the server exposes no such metric. */
export interface VllmMetrics {
  running: number;
  waiting: number;
  kvCacheUsage: number;
  prefixCacheQueries: number | null;
  prefixCacheHits: number | null;
  /** Legacy gauge (V0 engine): the hit rate over vLLM's own window. */
  prefixCacheHitRateGauge: number | null;
  generationTokens: number | null;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseValue(text: string): number | null {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  return Number.isNaN(value) ? null : value;
}

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_match, c: string) => (c === "n" ? "\n" : c));
}

/** Parses Prometheus text exposition (format 0.0.4). Comments, blank and malformed lines are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) continue;
    const value = parseValue(match[3]!);
    if (value === null || Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(LABEL_PAIR)) labels[pair[1]!] = unescapeLabel(pair[2]!);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

type Aggregate = "sum" | "mean";

/** The value of the first of `names` present, aggregated over its label sets; null if none is present. */
function pick(samples: readonly Sample[], names: readonly string[], aggregate: Aggregate): number | null {
  for (const name of names) {
    const values = samples.filter((sample) => sample.name === name && Number.isFinite(sample.value)).map((sample) => sample.value);
    if (values.length === 0) continue;
    const total = values.reduce((sum, value) => sum + value, 0);
    return aggregate === "sum" ? total : total / values.length;
  }
  return null;
}

const counterNames = (...bases: string[]) => bases.flatMap((base) => [`${base}_total`, base]);

/** Reads vLLM's load figures from a scrape (current names first, then legacy). */
export function readVllmMetrics(text: string): VllmMetrics {
  const samples = parsePrometheusText(text);
  const kv = pick(samples, ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"], "mean");
  return {
    running: Math.max(0, Math.round(pick(samples, ["vllm:num_requests_running"], "sum") ?? 0)),
    waiting: Math.max(0, Math.round(pick(samples, ["vllm:num_requests_waiting"], "sum") ?? 0)),
    kvCacheUsage: clampUnit(kv ?? 0),
    prefixCacheQueries: pick(samples, counterNames("vllm:prefix_cache_queries", "vllm:gpu_prefix_cache_queries"), "sum"),
    prefixCacheHits: pick(samples, counterNames("vllm:prefix_cache_hits", "vllm:gpu_prefix_cache_hits"), "sum"),
    prefixCacheHitRateGauge: nullableClamp(pick(samples, ["vllm:gpu_prefix_cache_hit_rate"], "mean")),
    generationTokens: pick(samples, counterNames("vllm:generation_tokens"), "sum"),
  };
}

/** A scrape and when it was taken (ms). */
export interface TimedMetrics {
  metrics: VllmMetrics;
  atMs: number;
}

/**
 * The heartbeat load from the current scrape and the previous one. Hit rate and tokens/s are
 * rates over the interval between the two scrapes (counter resets — a vLLM restart — count from
 * zero). With no prefix-cache queries in the interval the previous hit rate is carried, since
 * "no traffic" is not "no hits".
 */
export function computeLoad(previous: TimedMetrics | null, current: TimedMetrics, previousLoad: WorkerLoad | null): WorkerLoad {
  const now = current.metrics;
  const before = previous?.metrics ?? null;
  const seconds = previous === null ? 0 : (current.atMs - previous.atMs) / 1000;

  let prefixCacheHitRate = previousLoad?.prefixCacheHitRate ?? 0;
  const queries = counterDelta(before?.prefixCacheQueries ?? null, now.prefixCacheQueries);
  const hits = counterDelta(before?.prefixCacheHits ?? null, now.prefixCacheHits);
  if (queries !== null && hits !== null && queries > 0) prefixCacheHitRate = clampUnit(hits / queries);
  else if (now.prefixCacheQueries === null && now.prefixCacheHitRateGauge !== null) prefixCacheHitRate = now.prefixCacheHitRateGauge;

  const tokens = counterDelta(before?.generationTokens ?? null, now.generationTokens);
  const tokensPerSecond = tokens !== null && seconds > 0 ? tokens / seconds : 0;

  return {
    running: now.running,
    waiting: now.waiting,
    kvCacheUsage: now.kvCacheUsage,
    prefixCacheHitRate,
    tokensPerSecond: Math.max(0, tokensPerSecond),
  };
}

/** The increase of a counter between two scrapes; null without two readings. A decrease is a reset. */
function counterDelta(before: number | null, after: number | null): number | null {
  if (before === null || after === null) return null;
  return after >= before ? after - before : after;
}

function clampUnit(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(1, Math.max(0, value));
}

function nullableClamp(value: number | null): number | null {
  return value === null ? null : clampUnit(value);
}
