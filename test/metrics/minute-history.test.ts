/** The dashboard history's arithmetic: minutes, retention, percentiles from histograms, and ranges. */
import { describe, expect, it } from "vitest";
import { emptyHistogram, TTFT_BUCKETS_SECONDS } from "../../workers/metrics/histogram.js";
import {
  addFlushInto,
  closedMinuteStarts,
  historyView,
  histogramQuantile,
  minuteStart,
  rangeBounds,
  retentionCutoff,
  unionMinutes,
  type MinuteTotals,
} from "../../workers/metrics/minute-history.js";
import { addGenerationInto, addRefusalInto, emptyTotals, type GenerationSummary, type RefusalReason, type Totals } from "../../workers/metrics/totals.js";

const at = (iso: string) => Date.parse(iso);

/** Totals of the given generations (model m unless named) and refusals. */
function totals(generations: (Partial<GenerationSummary> & { model?: string })[], refusals: RefusalReason[] = []): Totals {
  const t = emptyTotals();
  for (const g of generations) {
    addGenerationInto(t, g.model ?? "m", { status: "complete", failovers: 0, promptTokens: 10, completionTokens: 5, ...g });
  }
  for (const reason of refusals) addRefusalInto(t, reason);
  return t;
}

describe("minuteStart", () => {
  it.each([
    ["2026-11-28T12:30:00.000Z", "2026-11-28T12:30:00.000Z"],
    ["2026-11-28T12:30:59.999Z", "2026-11-28T12:30:00.000Z"],
    ["2026-11-28T12:31:00.000Z", "2026-11-28T12:31:00.000Z"],
    ["2026-11-28T00:00:00.001Z", "2026-11-28T00:00:00.000Z"],
  ])("%s → %s", (time, start) => expect(minuteStart(at(time))).toBe(at(start)));
});

describe("addFlushInto", () => {
  it("merges flushes that arrive in the same minute and starts a new minute at the boundary", () => {
    const minutes = new Map<number, Totals>();
    const cases: [string, Totals, string][] = [
      ["2026-11-28T12:30:01Z", totals([{}, {}]), "2026-11-28T12:30:00Z"],
      ["2026-11-28T12:30:59.9Z", totals([{ status: "failed" }], ["overloaded"]), "2026-11-28T12:30:00Z"],
      ["2026-11-28T12:31:00Z", totals([{}]), "2026-11-28T12:31:00Z"],
    ];
    for (const [arrival, delta, minute] of cases) expect(addFlushInto(minutes, at(arrival), delta)).toBe(at(minute));
    const first = minutes.get(at("2026-11-28T12:30:00Z"))!;
    expect(first.models.m?.requests).toEqual({ complete: 2, length: 0, cancelled: 0, failed: 1 });
    expect(first.refused).toEqual({ overloaded: 1 });
    expect(minutes.get(at("2026-11-28T12:31:00Z"))!.models.m?.requests.complete).toBe(1);
    expect(minutes.size).toBe(2);
  });
});

describe("closedMinuteStarts", () => {
  const starts = ["12:28", "12:30", "12:29", "12:31"].map((hm) => at(`2026-11-28T${hm}:00Z`));
  it.each([
    ["2026-11-28T12:27:30Z", []],
    ["2026-11-28T12:29:59Z", ["12:28"]],
    ["2026-11-28T12:30:00Z", ["12:28", "12:29"]],
    ["2026-11-28T12:31:10Z", ["12:28", "12:29", "12:30"]],
    ["2026-11-28T13:00:00Z", ["12:28", "12:29", "12:30", "12:31"]],
  ])("at %s the closed minutes are %j, oldest first", (now, closed) => {
    expect(closedMinuteStarts(starts, at(now))).toEqual(closed.map((hm) => at(`2026-11-28T${hm}:00Z`)));
  });
});

describe("retentionCutoff", () => {
  it.each([
    ["2026-11-28T12:30:45Z", 7, "2026-11-21T12:30:00Z"],
    ["2026-11-28T12:30:45Z", 1, "2026-11-27T12:30:00Z"],
    ["2026-03-01T00:00:00Z", 1, "2026-02-28T00:00:00Z"],
  ])("at %s keeping %i days deletes minutes before %s", (now, days, cutoff) => {
    expect(retentionCutoff(at(now), days)).toBe(at(cutoff));
  });
});

describe("histogramQuantile (bounds 25 ms … 60 s, linear inside a bucket)", () => {
  /** A histogram with `count` observations in bucket `index` for each [index, count]. */
  function histogram(entries: [number, number][]) {
    const h = emptyHistogram(TTFT_BUCKETS_SECONDS);
    for (const [index, count] of entries) h.buckets[index] = count;
    return h;
  }
  it.each([
    ["no observations", [], 0.5, null],
    ["all ≤ 25 ms, median", [[0, 10]], 0.5, 0.0125],
    ["all in (50, 100] ms, median", [[2, 4]], 0.5, 0.075],
    ["all in (50, 100] ms, p99", [[2, 4]], 0.99, 0.0995],
    ["one in (100, 250] ms and one in (0.5, 1] s, median at the first one's top", [[3, 1], [5, 1]], 0.5, 0.25],
    ["one in (100, 250] ms and one in (0.5, 1] s, p99", [[3, 1], [5, 1]], 0.99, 0.99],
    ["99 in (25, 50] ms and one slow, p99 stays in the fast bucket", [[1, 99], [9, 1]], 0.99, 0.05],
    ["99 in (25, 50] ms and one slow, median", [[1, 99], [9, 1]], 0.5, 0.025 + 0.025 * (50 / 99)],
    ["only above the last bound: the last bound", [[11, 2]], 0.5, 60],
    ["p100 of a mix is the top of the highest non-empty bucket", [[0, 3], [6, 1]], 1, 2.5],
  ] as [string, [number, number][], number, number | null][])("%s", (_name, entries, q, expected) => {
    const value = histogramQuantile(histogram(entries), TTFT_BUCKETS_SECONDS, q);
    if (expected === null) expect(value).toBeNull();
    else expect(value).toBeCloseTo(expected, 9);
  });
});

describe("rangeBounds", () => {
  it.each([
    ["hour", "2026-11-28T12:30:20Z", "2026-11-28T11:31:00Z", "2026-11-28T12:31:00Z", 60_000],
    ["hour", "2026-11-28T12:30:00Z", "2026-11-28T11:31:00Z", "2026-11-28T12:31:00Z", 60_000],
    ["day", "2026-11-28T12:30:20Z", "2026-11-27T12:35:00Z", "2026-11-28T12:35:00Z", 300_000],
    ["day", "2026-11-28T12:34:59Z", "2026-11-27T12:35:00Z", "2026-11-28T12:35:00Z", 300_000],
  ] as const)("%s at %s spans [%s, %s) in %i ms buckets", (range, now, start, end, bucketMs) => {
    expect(rangeBounds(range, at(now))).toEqual({ start: at(start), end: at(end), bucketMs });
  });
});

describe("unionMinutes", () => {
  it("takes the metrics object's pending copy of a minute over the stored one, oldest first", () => {
    const stored: MinuteTotals[] = [
      { start: 120_000, totals: totals([{}]) },
      { start: 60_000, totals: totals([{}]) },
    ];
    const pending: MinuteTotals[] = [
      { start: 120_000, totals: totals([{}, {}, {}]) },
      { start: 180_000, totals: totals([{}]) },
    ];
    const merged = unionMinutes(stored, pending);
    expect(merged.map((m) => m.start)).toEqual([60_000, 120_000, 180_000]);
    expect(merged[1]!.totals.models.m?.requests.complete).toBe(3);
  });
});

describe("historyView", () => {
  const now = at("2026-11-28T12:30:20Z");

  it("hour: 60 one-minute buckets ending with the open minute; minutes outside are left out", () => {
    const view = historyView({
      range: "hour",
      now,
      minutes: [
        { start: at("2026-11-28T11:30:00Z"), totals: totals([{}]) }, // a minute before the range
        { start: at("2026-11-28T11:31:00Z"), totals: totals([{ promptTokens: 7, completionTokens: 3 }]) },
        { start: at("2026-11-28T12:30:00Z"), totals: totals([{ status: "cancelled", failovers: 2 }, { status: "length", model: "other" }], ["rate_limit_exceeded"]) },
      ],
    });
    expect(view.bucketSeconds).toBe(60);
    expect(view.buckets).toHaveLength(60);
    expect(view.start).toBe(at("2026-11-28T11:31:00Z") / 1000);
    expect(view.end).toBe(at("2026-11-28T12:31:00Z") / 1000);
    expect(view.buckets.map((b) => b.start)).toEqual(Array.from({ length: 60 }, (_, i) => view.start + 60 * i));
    const first = view.buckets[0]!;
    expect(first.requests).toEqual({ complete: 1, length: 0, cancelled: 0, failed: 0 });
    expect([first.prompt_tokens, first.completion_tokens]).toEqual([7, 3]);
    const last = view.buckets[59]!;
    expect(last.requests).toEqual({ complete: 0, length: 1, cancelled: 1, failed: 0 });
    expect(last.failovers).toBe(2);
    expect(last.refused.rate_limit_exceeded).toBe(1);
    expect(last.refused.overloaded).toBe(0);
    expect(view.buckets.slice(1, 59).every((b) => b.requests.complete + b.requests.failed === 0 && b.ttft_ms.p50 === null)).toBe(true);
    expect(view.models).toEqual(["m", "other"]);
    // The minute before the range would have added a complete request somewhere: it did not.
    expect(view.buckets.reduce((sum, b) => sum + b.requests.complete, 0)).toBe(1);
  });

  it("day: 288 five-minute buckets, each the sum of its minutes, TTFT percentiles over every model", () => {
    const view = historyView({
      range: "day",
      now,
      minutes: [
        { start: at("2026-11-28T12:25:00Z"), totals: totals([{ timeToFirstTokenMs: 40 }]) },
        { start: at("2026-11-28T12:30:00Z"), totals: totals([{ timeToFirstTokenMs: 60 }, { timeToFirstTokenMs: 70, model: "other" }]) },
        { start: at("2026-11-28T12:31:00Z"), totals: totals([{ timeToFirstTokenMs: 80 }]) },
        { start: at("2026-11-28T12:34:00Z"), totals: totals([{ timeToFirstTokenMs: 3000 }], ["no_workers", "no_workers"]) },
        { start: at("2026-11-27T12:30:00Z"), totals: totals([{}]) }, // 24 h ago: before the first bucket
      ],
    });
    expect(view.bucketSeconds).toBe(300);
    expect(view.buckets).toHaveLength(288);
    expect(view.start).toBe(at("2026-11-27T12:35:00Z") / 1000);
    const [previous, last] = [view.buckets[286]!, view.buckets[287]!];
    expect(previous.start).toBe(at("2026-11-28T12:25:00Z") / 1000);
    expect(previous.requests.complete).toBe(1);
    // One first token in (25, 50] ms: p50 = 25 + 25 × 0.5, p99 = 25 + 25 × 0.99 = 49.75, shown to 0.1 ms.
    expect(previous.ttft_ms).toEqual({ count: 1, p50: 37.5, p99: 49.8 });
    expect(last.requests.complete).toBe(4);
    expect(last.prompt_tokens).toBe(40);
    expect(last.refused.no_workers).toBe(2);
    // Four first tokens: three in (50, 100] ms, one in (2.5, 5] s. p50 = rank 2 of 3 in (50, 100].
    expect(last.ttft_ms.count).toBe(4);
    expect(last.ttft_ms.p50).toBeCloseTo(50 + 50 * (2 / 3), 1);
    expect(last.ttft_ms.p99).toBeCloseTo(2500 + 2500 * 0.96, 1);
    expect(view.buckets.reduce((sum, b) => sum + b.requests.complete, 0)).toBe(5);
  });
});
