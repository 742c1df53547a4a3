import { describe, expect, it } from "vitest";
import { isPreemptionNotice, nextDelayMs } from "../../gpu-backend/agent/backoff.js";
import { computeLoad, parsePrometheusText, readVllmMetrics, type VllmMetrics } from "../../gpu-backend/agent/metrics-parser.js";

// What vLLM's V1 engine exposes (current names), trimmed.
const CURRENT = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="vicuna-13b-v1.5"} 3.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="vicuna-13b-v1.5"} 2.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="vicuna-13b-v1.5"} 0.375
# TYPE vllm:prefix_cache_queries counter
vllm:prefix_cache_queries_total{engine="0",model_name="vicuna-13b-v1.5"} 1000.0
# TYPE vllm:prefix_cache_hits counter
vllm:prefix_cache_hits_total{engine="0",model_name="vicuna-13b-v1.5"} 250.0
# TYPE vllm:generation_tokens counter
vllm:generation_tokens_total{engine="0",model_name="vicuna-13b-v1.5"} 5000.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="vicuna-13b-v1.5"} 12.0
`;

// Older vLLM: gpu_* names for the KV cache and the prefix-cache counters.
const LEGACY_COUNTERS = `vllm:num_requests_running{model_name="m"} 1.0
vllm:num_requests_waiting{model_name="m"} 0.0
vllm:gpu_cache_usage_perc{model_name="m"} 0.5
vllm:gpu_prefix_cache_queries_total{model_name="m"} 400.0
vllm:gpu_prefix_cache_hits_total{model_name="m"} 100.0
vllm:generation_tokens_total{model_name="m"} 10.0
`;

// V0 engine: a hit-rate gauge instead of counters, and counters without `_total` in some exporters.
const LEGACY_GAUGE = `vllm:num_requests_running{model_name="m"} 0
vllm:num_requests_waiting{model_name="m"} 4
vllm:gpu_cache_usage_perc{model_name="m"} 0.9
vllm:gpu_prefix_cache_hit_rate{model_name="m"} 0.42
vllm:generation_tokens{model_name="m"} 77
`;

// Both names during a deprecation window: the current one wins.
const BOTH = `vllm:kv_cache_usage_perc{engine="0"} 0.2
vllm:gpu_cache_usage_perc{engine="0"} 0.9
vllm:prefix_cache_queries_total{engine="0"} 10
vllm:gpu_prefix_cache_queries_total{engine="0"} 999
vllm:prefix_cache_hits_total{engine="0"} 5
vllm:gpu_prefix_cache_hits_total{engine="0"} 1
`;

// Two data-parallel engines: counts sum, usage averages.
const TWO_ENGINES = `vllm:num_requests_running{engine="0"} 3
vllm:num_requests_running{engine="1"} 4
vllm:num_requests_waiting{engine="0"} 1
vllm:num_requests_waiting{engine="1"} 0
vllm:kv_cache_usage_perc{engine="0"} 0.2
vllm:kv_cache_usage_perc{engine="1"} 0.6
`;

describe("readVllmMetrics", () => {
  const cases: Array<[string, string, Partial<VllmMetrics>]> = [
    ["current names", CURRENT, { running: 3, waiting: 2, kvCacheUsage: 0.375, prefixCacheQueries: 1000, prefixCacheHits: 250, generationTokens: 5000, prefixCacheHitRateGauge: null }],
    ["legacy counters", LEGACY_COUNTERS, { running: 1, waiting: 0, kvCacheUsage: 0.5, prefixCacheQueries: 400, prefixCacheHits: 100, generationTokens: 10 }],
    ["legacy hit-rate gauge, counters without _total", LEGACY_GAUGE, { running: 0, waiting: 4, kvCacheUsage: 0.9, prefixCacheQueries: null, prefixCacheHitRateGauge: 0.42, generationTokens: 77 }],
    ["current wins over legacy", BOTH, { kvCacheUsage: 0.2, prefixCacheQueries: 10, prefixCacheHits: 5 }],
    ["data-parallel engines", TWO_ENGINES, { running: 7, waiting: 1, kvCacheUsage: 0.4 }],
    ["empty scrape", "", { running: 0, waiting: 0, kvCacheUsage: 0, prefixCacheQueries: null, generationTokens: null }],
    ["garbage lines are skipped", "not a metric line at all\nvllm:num_requests_running{ 5\nvllm:num_requests_running 2 1700000000000\n", { running: 2 }],
    ["usage above 1 is clamped", "vllm:kv_cache_usage_perc 1.7\n", { kvCacheUsage: 1 }],
  ];
  it.each(cases)("%s", (_name, text, expected) => {
    expect(readVllmMetrics(text)).toMatchObject(expected);
  });

  it("parses labels with escapes", () => {
    expect(parsePrometheusText('m{a="x\\"y",b="1,2"} 3\n')).toEqual([{ name: "m", labels: { a: 'x"y', b: "1,2" }, value: 3 }]);
  });
});

describe("computeLoad", () => {
  const base: VllmMetrics = {
    running: 2,
    waiting: 1,
    kvCacheUsage: 0.3,
    prefixCacheQueries: 1000,
    prefixCacheHits: 200,
    prefixCacheHitRateGauge: null,
    generationTokens: 5000,
  };
  const at = (metrics: Partial<VllmMetrics>, atMs: number) => ({ metrics: { ...base, ...metrics }, atMs });

  const cases: Array<[string, Parameters<typeof computeLoad>, { prefixCacheHitRate: number; tokensPerSecond: number }]> = [
    ["first scrape: no rates yet", [null, at({}, 0), null], { prefixCacheHitRate: 0, tokensPerSecond: 0 }],
    ["rates over the interval", [at({}, 0), at({ prefixCacheQueries: 1400, prefixCacheHits: 500, generationTokens: 5100 }, 2000), null], { prefixCacheHitRate: 0.75, tokensPerSecond: 50 }],
    ["no queries in the interval keeps the previous rate", [at({}, 0), at({}, 1000), { running: 0, waiting: 0, kvCacheUsage: 0, prefixCacheHitRate: 0.6, tokensPerSecond: 9 }], { prefixCacheHitRate: 0.6, tokensPerSecond: 0 }],
    ["counter reset (vLLM restarted) counts from zero", [at({}, 0), at({ prefixCacheQueries: 100, prefixCacheHits: 50, generationTokens: 30 }, 1000), null], { prefixCacheHitRate: 0.5, tokensPerSecond: 30 }],
    ["legacy gauge when there are no counters", [at({ prefixCacheQueries: null, prefixCacheHits: null }, 0), at({ prefixCacheQueries: null, prefixCacheHits: null, prefixCacheHitRateGauge: 0.42 }, 1000), null], { prefixCacheHitRate: 0.42, tokensPerSecond: 0 }],
    ["no generation counter", [at({ generationTokens: null }, 0), at({ generationTokens: null }, 1000), null], { prefixCacheHitRate: 0, tokensPerSecond: 0 }],
  ];
  it.each(cases)("%s", (_name, args, expected) => {
    const load = computeLoad(...args);
    expect(load.prefixCacheHitRate).toBeCloseTo(expected.prefixCacheHitRate, 9);
    expect(load.tokensPerSecond).toBeCloseTo(expected.tokensPerSecond, 9);
    expect(load).toMatchObject({ running: args[1].metrics.running, waiting: args[1].metrics.waiting, kvCacheUsage: args[1].metrics.kvCacheUsage });
  });
});

describe("nextDelayMs", () => {
  const cases: Array<[number, number, number]> = [
    // consecutive failures, random, expected delay (poll 1000, max 5000)
    [0, 0.5, 1000],
    [1, 0.5, 2000],
    [2, 0.5, 4000],
    [3, 0.5, 5000],
    [50, 0.99, 5000],
    [1, 0, 1600],
    [1, 0.999, 2399],
  ];
  it.each(cases)("after %i failures with random %d: %i ms", (failures, r, expected) => {
    expect(nextDelayMs({ pollIntervalMs: 1000, maxBackoffMs: 5000, consecutiveFailures: failures, random: () => r })).toBe(expected);
  });
});

describe("isPreemptionNotice", () => {
  const cases: Array<[number, string, boolean]> = [
    [200, "TRUE", true],
    [200, "FALSE", false],
    [200, "false\n", false],
    [200, '{"action":"terminate","time":"2026-01-01T00:00:00Z"}', true],
    [200, "", false],
    [404, "Not Found", false],
  ];
  it.each(cases)("%i %j → %s", (status, body, expected) => {
    expect(isPreemptionNotice(status, body)).toBe(expected);
  });
});
