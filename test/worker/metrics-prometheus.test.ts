/** The pure parts of GET /metrics: the text renderer, histogram math, counter totals and the families built from a pool snapshot. */
import { describe, expect, it } from "vitest";
import { buildFamilies } from "../../workers/metrics/exposition.js";
import { bucketIndex, emptyHistogram, mergeHistogramInto, observationCount, observeInto, TTFT_BUCKETS_SECONDS } from "../../workers/metrics/histogram.js";
import { cumulativeBuckets, escapeLabelValue, formatValue, renderPrometheus, type MetricFamily } from "../../workers/metrics/prometheus.js";
import { addGenerationInto, addRefusalInto, emptyTotals, isRefusalReason, mergeTotalsInto, StoredTotals, Totals } from "../../workers/metrics/totals.js";
import type { PoolSnapshot, PoolWorker } from "../../workers/pool/pool-do.js";

describe("formatValue", () => {
  it.each([
    [0, "0"],
    [42, "42"],
    [-3, "-3"],
    [0.25, "0.25"],
    [1e-7, "1e-7"],
    [Number.POSITIVE_INFINITY, "+Inf"],
    [Number.NEGATIVE_INFINITY, "-Inf"],
    [Number.NaN, "NaN"],
  ])("%s → %s", (value, text) => {
    expect(formatValue(value)).toBe(text);
  });
});

describe("escapeLabelValue", () => {
  it.each([
    ["plain", "plain"],
    ['say "hi"', 'say \\"hi\\"'],
    ["back\\slash", "back\\\\slash"],
    ["two\nlines", "two\\nlines"],
    ['\\"\n', '\\\\\\"\\n'],
  ])("%j → %j", (value, escaped) => {
    expect(escapeLabelValue(value)).toBe(escaped);
  });
});

describe("cumulativeBuckets", () => {
  it.each([
    [[], []],
    [[0, 0, 0], [0, 0, 0]],
    [[1, 2, 3], [1, 3, 6]],
    [[0, 5, 0, 1], [0, 5, 5, 6]],
  ])("%j → %j", (buckets, cumulative) => {
    expect(cumulativeBuckets(buckets)).toEqual(cumulative);
  });
});

describe("renderPrometheus", () => {
  it("writes HELP and TYPE, labels in order, and ends with a line feed", () => {
    const families: MetricFamily[] = [
      { name: "a_gauge", help: "A gauge.", type: "gauge", samples: [{ labels: {}, value: 1.5 }] },
      {
        name: "b_total",
        help: "Counts\nthings \\ here.",
        type: "counter",
        samples: [
          { labels: { model: "m", outcome: "complete" }, value: 3 },
          { labels: { model: 'odd"name', outcome: "failed" }, value: 0 },
        ],
      },
      { name: "c_empty", help: "No samples yet.", type: "gauge", samples: [] },
    ];
    expect(renderPrometheus(families)).toBe(
      [
        "# HELP a_gauge A gauge.",
        "# TYPE a_gauge gauge",
        "a_gauge 1.5",
        "# HELP b_total Counts\\nthings \\\\ here.",
        "# TYPE b_total counter",
        'b_total{model="m",outcome="complete"} 3',
        'b_total{model="odd\\"name",outcome="failed"} 0',
        "# HELP c_empty No samples yet.",
        "# TYPE c_empty gauge",
        "",
      ].join("\n"),
    );
  });

  it("writes a histogram as cumulative buckets, +Inf, sum and count", () => {
    const text = renderPrometheus([
      { name: "ttft_seconds", help: "TTFT.", type: "histogram", samples: [{ labels: { model: "m" }, bounds: [0.1, 1], buckets: [2, 1, 4], sum: 21.5 }] },
    ]);
    expect(text.split("\n")).toEqual([
      "# HELP ttft_seconds TTFT.",
      "# TYPE ttft_seconds histogram",
      'ttft_seconds_bucket{model="m",le="0.1"} 2',
      'ttft_seconds_bucket{model="m",le="1"} 3',
      'ttft_seconds_bucket{model="m",le="+Inf"} 7',
      'ttft_seconds_sum{model="m"} 21.5',
      'ttft_seconds_count{model="m"} 7',
      "",
    ]);
  });

  it.each<[string, MetricFamily[]]>([
    ["a bad metric name", [{ name: "bad-name", help: "", type: "gauge", samples: [] }]],
    ["a bad label name", [{ name: "ok", help: "", type: "gauge", samples: [{ labels: { "bad-label": "x" }, value: 1 } ] }]],
    ["a reserved label name", [{ name: "ok", help: "", type: "gauge", samples: [{ labels: { __name__: "x" }, value: 1 }] }]],
    [
      "the same family twice",
      [
        { name: "twice", help: "", type: "gauge", samples: [] },
        { name: "twice", help: "", type: "counter", samples: [] },
      ],
    ],
    ["buckets that do not match the bounds", [{ name: "h", help: "", type: "histogram", samples: [{ labels: {}, bounds: [1], buckets: [1], sum: 1 }] }]],
  ])("refuses %s", (_case, families) => {
    expect(() => renderPrometheus(families)).toThrow();
  });
});

describe("histograms", () => {
  const bounds = [0.1, 0.5, 1];
  it.each([
    [0, 0],
    [0.1, 0],
    [0.10001, 1],
    [0.5, 1],
    [0.99, 2],
    [1, 2],
    [1.01, 3],
    [1e9, 3],
  ])("%s falls in bucket %s (le is inclusive)", (value, index) => {
    expect(bucketIndex(bounds, value)).toBe(index);
  });

  it("observes and merges", () => {
    const a = emptyHistogram(bounds);
    observeInto(a, bounds, 0.05);
    observeInto(a, bounds, 2);
    const b = emptyHistogram(bounds);
    observeInto(b, bounds, 0.7);
    mergeHistogramInto(a, b);
    expect(a).toEqual({ buckets: [1, 0, 1, 1], sum: 2.75 });
    expect(observationCount(a)).toBe(3);
    expect(() => mergeHistogramInto(a, emptyHistogram([1]))).toThrow();
  });

  it("TTFT buckets are ascending", () => {
    expect([...TTFT_BUCKETS_SECONDS].sort((x, y) => x - y)).toEqual(TTFT_BUCKETS_SECONDS);
  });
});

describe("totals", () => {
  const done = { status: "complete" as const, failovers: 0, promptTokens: 40, completionTokens: 10, timeToFirstTokenMs: 80 };

  it("counts outcomes, failovers, tokens and TTFT (in seconds) per model", () => {
    const totals = emptyTotals();
    addGenerationInto(totals, "m", done);
    addGenerationInto(totals, "m", { ...done, status: "length", failovers: 2, timeToFirstTokenMs: 3_000 });
    addGenerationInto(totals, "m", { status: "failed", failovers: 1, promptTokens: 40, completionTokens: 0 });
    const entry = totals.models.m!;
    expect(entry.requests).toEqual({ complete: 1, length: 1, cancelled: 0, failed: 1 });
    expect(entry.failovers).toBe(3);
    expect(entry.promptTokens).toBe(120);
    expect(entry.generatedTokens).toBe(20);
    expect(observationCount(entry.ttft)).toBe(2);
    expect(entry.ttft.sum).toBeCloseTo(3.08);
    expect(entry.ttft.buckets[bucketIndex(TTFT_BUCKETS_SECONDS, 0.08)]).toBe(1);
    expect(entry.ttft.buckets[bucketIndex(TTFT_BUCKETS_SECONDS, 3)]).toBe(1);
  });

  it("merges two buffers into the sum of both", () => {
    const a = emptyTotals();
    addGenerationInto(a, "m", done);
    addRefusalInto(a, "overloaded");
    const b = emptyTotals();
    addGenerationInto(b, "m", { ...done, status: "cancelled" });
    addGenerationInto(b, "other", done);
    addRefusalInto(b, "overloaded");
    addRefusalInto(b, "rate_limit_exceeded");
    mergeTotalsInto(a, b);
    expect(a.models.m?.requests).toEqual({ complete: 1, length: 0, cancelled: 1, failed: 0 });
    expect(a.models.other?.requests.complete).toBe(1);
    expect(a.refused).toEqual({ overloaded: 2, rate_limit_exceeded: 1 });
    expect(Totals.parse(a)).toEqual(a);
  });

  it("rejects negative or unknown counts, and restores stored totals whose TTFT buckets changed", () => {
    const totals = emptyTotals();
    addGenerationInto(totals, "m", done);
    expect(Totals.safeParse({ ...totals, refused: { overloaded: -1 } }).success).toBe(false);
    expect(Totals.safeParse({ ...totals, refused: { made_up: 1 } }).success).toBe(false);
    const oldLayout = JSON.parse(JSON.stringify(totals)) as { models: { m: { ttft: { buckets: number[] } } } };
    oldLayout.models.m.ttft.buckets = [1, 0];
    expect(Totals.safeParse(oldLayout).success).toBe(false);
    const restored = StoredTotals.parse(oldLayout);
    expect(restored.models.m?.requests.complete).toBe(1);
    expect(restored.models.m?.ttft).toEqual(emptyHistogram(TTFT_BUCKETS_SECONDS));
  });

  it.each([
    ["overloaded", true],
    ["no_workers", true],
    ["rate_limit_exceeded", true],
    ["workers_unavailable", false],
    ["invalid_api_key", false],
    [null, false],
  ])("isRefusalReason(%s) is %s", (code, expected) => {
    expect(isRefusalReason(code)).toBe(expected);
  });
});

describe("buildFamilies", () => {
  const NOW = 1_700_000_010_000;
  function worker(id: string, overrides: Partial<PoolWorker> = {}): PoolWorker {
    return {
      id,
      url: `http://${id}.test`,
      models: [{ id: "m", maxModelLen: 4096 }],
      state: "ready",
      healthy: true,
      agentState: "ready",
      adminState: "active",
      load: { running: 3, waiting: 1, kvCacheUsage: 0.5, prefixCacheHitRate: 0.25, tokensPerSecond: 120 },
      joinedAt: NOW - 60_000,
      lastHeartbeatAt: NOW - 1_500,
      consecutiveFailures: 0,
      totalFailures: 0,
      cooldownUntil: 0,
      ...overrides,
    };
  }
  const snapshot: PoolSnapshot = {
    takenAt: NOW - 500,
    heartbeatIntervalMs: 1_000,
    workers: [worker("w1"), worker("w2", { state: "draining", consecutiveFailures: 2, totalFailures: 5 })],
    replicas: [{ model: "m", readyWorkers: 1, liveWorkers: 2, running: 6, waiting: 2, kvCacheUsage: 1, desiredReplicas: 2 }],
  };
  const text = (input: Parameters<typeof buildFamilies>[0]) => renderPrometheus(buildFamilies(input)).split("\n");

  it("shows each worker's load, a one-hot state, failures and heartbeat age", () => {
    const lines = text({ totals: emptyTotals(), snapshot, models: ["m"], now: NOW });
    expect(lines).toContain('altiplano_worker_requests_running{worker="w1"} 3');
    expect(lines).toContain('altiplano_worker_requests_waiting{worker="w2"} 1');
    expect(lines).toContain('altiplano_worker_kv_cache_usage_ratio{worker="w1"} 0.5');
    expect(lines).toContain('altiplano_worker_prefix_cache_hit_ratio{worker="w1"} 0.25');
    expect(lines).toContain('altiplano_worker_generation_tokens_per_second{worker="w1"} 120');
    expect(lines).toContain('altiplano_worker_state{worker="w1",state="ready"} 1');
    expect(lines).toContain('altiplano_worker_state{worker="w1",state="draining"} 0');
    expect(lines).toContain('altiplano_worker_state{worker="w2",state="draining"} 1');
    expect(lines.filter((l) => l.startsWith('altiplano_worker_state{worker="w2"') && l.endsWith(" 1"))).toHaveLength(1);
    expect(lines).toContain('altiplano_worker_consecutive_failures{worker="w2"} 2');
    expect(lines).toContain('altiplano_worker_failures_total{worker="w2"} 5');
    expect(lines).toContain('altiplano_worker_heartbeat_age_seconds{worker="w1"} 1.5');
    expect(lines).toContain('altiplano_worker_model_info{worker="w1",model="m"} 1');
    expect(lines).toContain("altiplano_pool_up 1");
    expect(lines).toContain("altiplano_pool_snapshot_age_seconds 0.5");
  });

  it("shows per-model readiness and the desired replicas", () => {
    const lines = text({ totals: emptyTotals(), snapshot, models: ["m"], now: NOW });
    expect(lines).toContain('altiplano_model_ready_workers{model="m"} 1');
    expect(lines).toContain('altiplano_model_live_workers{model="m"} 2');
    expect(lines).toContain('altiplano_model_requests_waiting{model="m"} 2');
    expect(lines).toContain('altiplano_desired_replicas{model="m"} 2');
  });

  it("lists zeroed counters for configured models before any request, and says when the pool was unreadable", () => {
    const lines = text({ totals: emptyTotals(), snapshot: null, models: ["m"], now: NOW });
    expect(lines).toContain("altiplano_pool_up 0");
    expect(lines.some((l) => l.startsWith("altiplano_worker_requests_running{"))).toBe(false);
    expect(lines).toContain('altiplano_requests_total{model="m",outcome="complete"} 0');
    expect(lines).toContain('altiplano_requests_total{model="m",outcome="failed"} 0');
    expect(lines).toContain('altiplano_requests_refused_total{reason="overloaded"} 0');
    expect(lines).toContain('altiplano_time_to_first_token_seconds_count{model="m"} 0');
  });

  it("shows the gateway's counters and the TTFT histogram", () => {
    const totals = emptyTotals();
    addGenerationInto(totals, "m", { status: "complete", failovers: 1, promptTokens: 40, completionTokens: 10, timeToFirstTokenMs: 200 });
    addGenerationInto(totals, "m", { status: "cancelled", failovers: 0, promptTokens: 40, completionTokens: 3, timeToFirstTokenMs: 2_000 });
    addRefusalInto(totals, "no_workers");
    const lines = text({ totals, snapshot, models: ["m"], now: NOW });
    expect(lines).toContain('altiplano_requests_total{model="m",outcome="complete"} 1');
    expect(lines).toContain('altiplano_requests_total{model="m",outcome="cancelled"} 1');
    expect(lines).toContain('altiplano_requests_refused_total{reason="no_workers"} 1');
    expect(lines).toContain('altiplano_failovers_total{model="m"} 1');
    expect(lines).toContain('altiplano_prompt_tokens_total{model="m"} 80');
    expect(lines).toContain('altiplano_generated_tokens_total{model="m"} 13');
    expect(lines).toContain('altiplano_time_to_first_token_seconds_bucket{model="m",le="0.1"} 0');
    expect(lines).toContain('altiplano_time_to_first_token_seconds_bucket{model="m",le="0.25"} 1');
    expect(lines).toContain('altiplano_time_to_first_token_seconds_bucket{model="m",le="2.5"} 2');
    expect(lines).toContain('altiplano_time_to_first_token_seconds_bucket{model="m",le="+Inf"} 2');
    expect(lines).toContain('altiplano_time_to_first_token_seconds_sum{model="m"} 2.2');
    expect(lines).toContain('altiplano_time_to_first_token_seconds_count{model="m"} 2');
  });
});
