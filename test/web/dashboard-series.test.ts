/** From history buckets to the dashboard's chart series: slots, alignment, gaps, dots, totals and the summaries. */
import { describe, expect, it } from "vitest";
import { historySlots, refusedIn, trafficCharts } from "../../web/src/dashboard/history-charts.js";
import { alignToSlots, isolatedIndices, peak, slotSeconds, total, type Missing, type SlotRange } from "../../web/src/dashboard/series.js";
import type { DashboardHistory, HistoryBucket } from "../../wire/dashboard.js";

const MINUTE = 60_000;

describe("slotSeconds", () => {
  it("gives each slot's start in seconds", () => {
    expect(slotSeconds({ startMs: 120_000, stepMs: 60_000, count: 3 })).toEqual([120, 180, 240]);
    expect(slotSeconds({ startMs: 0, stepMs: 60_000, count: 0 })).toEqual([]);
  });
});

describe("alignToSlots", () => {
  const range: SlotRange = { startMs: 600_000, stepMs: 60_000, count: 4 };
  type B = { at: number; v: number | null };
  it.each<[string, B[], Missing, Array<number | null>]>([
    ["empty counts are zeros", [], "zero", [0, 0, 0, 0]],
    ["empty latencies are gaps", [], "gap", [null, null, null, null]],
    ["each bucket in its slot", [{ at: 600_000, v: 1 }, { at: 780_000, v: 4 }], "zero", [1, 0, 0, 4]],
    ["a bucket inside a slot counts for it", [{ at: 659_999, v: 2 }], "zero", [2, 0, 0, 0]],
    ["outside the range is left out", [{ at: 540_000, v: 9 }, { at: 840_000, v: 9 }, { at: 660_000, v: 3 }], "zero", [0, 3, 0, 0]],
    ["two counts in one slot add up", [{ at: 600_000, v: 2 }, { at: 630_000, v: 5 }], "zero", [7, 0, 0, 0]],
    ["a latency is never added: the later one stands", [{ at: 600_000, v: 20 }, { at: 630_000, v: 50 }], "gap", [50, null, null, null]],
    ["a null value stays a gap (or zero)", [{ at: 660_000, v: null }, { at: 720_000, v: 12 }], "gap", [null, null, 12, null]],
    ["a non-finite value is skipped", [{ at: 660_000, v: Number.NaN }], "zero", [0, 0, 0, 0]],
  ])("%s", (_what, buckets, missing, expected) => {
    expect(alignToSlots(buckets, range, (b) => b.at, (b) => b.v, missing)).toEqual(expected);
  });
});

describe("total, peak and isolatedIndices", () => {
  it.each<[Array<number | null>, number, number | null, number[] | null]>([
    [[], 0, null, null],
    [[null, null], 0, null, null],
    [[0, 0, 0], 0, 0, null],
    [[1, 2, 3], 6, 3, null],
    [[null, 5, null], 5, 5, [1]],
    [[4, null, null, 7], 11, 7, [0, 3]],
    [[4, 6, null, 7, null, 2, 3], 22, 7, [3]],
    [[9], 9, 9, [0]],
  ])("%j → total %d, peak %s, dots at %j", (values, sum, max, dots) => {
    expect(total(values)).toBe(sum);
    expect(peak(values)).toBe(max);
    expect(isolatedIndices(values)).toEqual(dots);
  });
});

function bucket(start: number, over: Partial<HistoryBucket> = {}): HistoryBucket {
  return {
    start,
    requests: { complete: 0, length: 0, cancelled: 0, failed: 0 },
    refused: { rate_limit_exceeded: 0, insufficient_quota: 0, limiter_unavailable: 0, no_workers: 0, overloaded: 0, pool_unavailable: 0 },
    prompt_tokens: 0,
    completion_tokens: 0,
    failovers: 0,
    ttft_ms: { count: 0, p50: null, p99: null },
    ...over,
  };
}

/** A 4-minute history (the real one is 60 × 1 min or 288 × 5 min, contiguous). */
function history(buckets: HistoryBucket[], over: Partial<DashboardHistory> = {}): DashboardHistory {
  return { object: "dashboard.history", range: "hour", bucket_seconds: 60, start: 6000, end: 6240, buckets, models: ["vicuna-13b-v1.5"], retention_days: 7, ...over };
}

describe("refusedIn and historySlots", () => {
  it("adds every refusal code", () => {
    expect(refusedIn(bucket(0, { refused: { rate_limit_exceeded: 1, insufficient_quota: 2, limiter_unavailable: 3, no_workers: 4, overloaded: 5, pool_unavailable: 6 } }))).toBe(21);
    expect(refusedIn(bucket(0))).toBe(0);
  });

  it.each<[number, number, number, SlotRange]>([
    [6000, 6240, 60, { startMs: 6_000_000, stepMs: 60_000, count: 4 }],
    [0, 86_400, 300, { startMs: 0, stepMs: 300_000, count: 288 }],
    [0, 3_600, 60, { startMs: 0, stepMs: 60_000, count: 60 }],
    [100, 100, 60, { startMs: 100_000, stepMs: 60_000, count: 0 }],
    [0, 90, 60, { startMs: 0, stepMs: 60_000, count: 2 }],
  ])("%d..%d by %d s", (start, end, step, slots) => {
    expect(historySlots({ start, end, bucket_seconds: step })).toEqual(slots);
  });
});

describe("trafficCharts", () => {
  const h = history([
    bucket(6000, { requests: { complete: 3, length: 1, cancelled: 1, failed: 0 }, prompt_tokens: 120, completion_tokens: 80, ttft_ms: { count: 4, p50: 40, p99: 95 } }),
    bucket(6060),
    bucket(6120, {
      requests: { complete: 2, length: 0, cancelled: 0, failed: 1 },
      refused: { rate_limit_exceeded: 2, insufficient_quota: 0, limiter_unavailable: 0, no_workers: 1, overloaded: 0, pool_unavailable: 0 },
      prompt_tokens: 60,
      completion_tokens: 30,
      failovers: 1,
      ttft_ms: { count: 2, p50: 55, p99: 1250 },
    }),
    bucket(6180, { ttft_ms: { count: 0, p50: 999, p99: 999 } }),
  ]);
  const charts = trafficCharts(h);

  it("has one x slot per minute, in seconds, and the range", () => {
    expect(charts.requests.series.x).toEqual([6000, 6060, 6120, 6180]);
    expect(charts.ttft.series.x).toEqual(charts.requests.series.x);
    expect(charts.range).toEqual({ start: 6000, end: 6240 });
  });

  it("splits requests by outcome: answered (complete + length), cancelled, failed, refused", () => {
    expect(charts.requests.series.lines.map((l) => [l.label, l.values])).toEqual([
      ["Answered", [4, 0, 2, 0]],
      ["Cancelled", [1, 0, 0, 0]],
      ["Failed", [0, 0, 1, 0]],
      ["Refused", [0, 0, 3, 0]],
    ]);
    expect(charts.requests.summary).toBe("Last hour: 6 answered, 1 cancelled, 1 failed, 3 refused (429 or 503).");
  });

  it("counts tokens and failovers, zero where nothing happened", () => {
    expect(charts.tokens.series.lines.map((l) => [l.label, l.values])).toEqual([
      ["Prompt", [120, 0, 60, 0]],
      ["Completion", [80, 0, 30, 0]],
    ]);
    expect(charts.tokens.summary).toBe("Last hour: 180 prompt tokens, 110 completion tokens.");
    expect(charts.failovers.series.lines[0]!.values).toEqual([0, 0, 1, 0]);
    expect(charts.failovers.summary).toBe("Last hour: 1 failover to another worker.");
  });

  it("leaves a gap in TTFT where no first token came, even if the bucket carries a stray number", () => {
    expect(charts.ttft.series.lines.map((l) => [l.label, l.values])).toEqual([
      ["p50", [40, null, 55, null]],
      ["p99", [95, null, 1250, null]],
    ]);
    expect(charts.ttft.summary).toBe("Last hour: 6 first tokens; per minute, p50 at most 55 ms and p99 at most 1.3 s.");
  });

  it("says so when nothing happened, and names the day's 5-minute steps", () => {
    const quiet = trafficCharts(history([bucket(0), bucket(300)], { range: "day", bucket_seconds: 300, start: 0, end: 600 }));
    expect(quiet.requests.summary).toBe("Last 24 hours: 0 answered, 0 cancelled, 0 failed, 0 refused (429 or 503).");
    expect(quiet.ttft.summary).toBe("Last 24 hours: no first tokens yet.");
    expect(quiet.failovers.summary).toBe("Last 24 hours: 0 failovers to another worker.");
    const busy = trafficCharts(history([bucket(0, { ttft_ms: { count: 3, p50: 800, p99: 2400 } })], { range: "day", bucket_seconds: 300, start: 0, end: 300 }));
    expect(busy.ttft.summary).toBe("Last 24 hours: 3 first tokens; per 5 minutes, p50 at most 800 ms and p99 at most 2.4 s.");
  });
});
