/**
 * The dashboard's traffic history, as pure arithmetic: the metrics object files each isolate
 * flush under the minute it arrived in (flushes are at most about a second late, recorder.ts), a
 * minute is written to D1 once it has closed, rows older than the retention are pruned, and a
 * read sums stored minutes into the buckets of a range (1-minute buckets for an hour, 5-minute
 * buckets for a day) with TTFT percentiles estimated from the summed histograms.
 */
import {
  RANGE_BUCKET_SECONDS,
  RANGE_SECONDS,
  type DashboardRange,
  type HistoryBucket,
  type RefusalCounts,
} from "../../wire/dashboard.js";
import { emptyHistogram, mergeHistogramInto, observationCount, TTFT_BUCKETS_SECONDS, type HistogramCounts } from "./histogram.js";
import { emptyTotals, mergeTotalsInto, OUTCOMES, REFUSAL_REASONS, type Totals } from "./totals.js";

export const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** One minute's counts: `start` is Unix milliseconds, a multiple of MINUTE_MS. */
export interface MinuteTotals {
  start: number;
  totals: Totals;
}

/** The start (Unix ms) of the minute `ms` falls in. */
export function minuteStart(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

/** Adds a flush that arrived at `at` to its minute in `minutes` (keyed by minute start). */
export function addFlushInto(minutes: Map<number, Totals>, at: number, delta: Totals): number {
  const start = minuteStart(at);
  let totals = minutes.get(start);
  if (!totals) {
    totals = emptyTotals();
    minutes.set(start, totals);
  }
  mergeTotalsInto(totals, delta);
  return start;
}

/** Starts of the minutes in `minutes` that have ended by `now` (no flush can join them), oldest first. */
export function closedMinuteStarts(minutes: Iterable<number>, now: number): number[] {
  const current = minuteStart(now);
  return [...minutes].filter((start) => start < current).sort((a, b) => a - b);
}

/** Minutes starting before this (Unix ms) are past the retention and deleted. */
export function retentionCutoff(now: number, retentionDays: number): number {
  return minuteStart(now) - retentionDays * DAY_MS;
}

/**
 * The q-quantile (0..1) of a histogram's observations, interpolated linearly inside the bucket
 * that holds it (Prometheus's histogram_quantile): the first bucket starts at 0, and a quantile
 * in the +Inf bucket is the highest finite bound. Null when it holds no observation.
 */
export function histogramQuantile(histogram: HistogramCounts, bounds: readonly number[], q: number): number | null {
  const count = observationCount(histogram);
  if (count === 0) return null;
  const rank = q * count;
  let below = 0;
  for (let i = 0; i < histogram.buckets.length; i++) {
    const inBucket = histogram.buckets[i] ?? 0;
    if (inBucket > 0 && below + inBucket >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1] ?? null;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return lower + (upper - lower) * ((rank - below) / inBucket);
    }
    below += inBucket;
  }
  return bounds[bounds.length - 1] ?? null;
}

/** The buckets of a range ending with the bucket that holds `now`. */
export interface HistoryView {
  bucketSeconds: number;
  /** Unix seconds: the first bucket's start and the last one's (exclusive) end. */
  start: number;
  end: number;
  buckets: HistoryBucket[];
  /** Models with traffic in the range, sorted. */
  models: string[];
}

function emptyRefusals(): RefusalCounts {
  return Object.fromEntries(REFUSAL_REASONS.map((reason) => [reason, 0])) as RefusalCounts;
}

/** The Unix ms span [start, end) of `range` at `now`: whole buckets, the last one holding `now`. */
export function rangeBounds(range: DashboardRange, now: number): { start: number; end: number; bucketMs: number } {
  const bucketMs = RANGE_BUCKET_SECONDS[range] * 1000;
  const end = Math.floor(now / bucketMs) * bucketMs + bucketMs;
  return { start: end - RANGE_SECONDS[range] * 1000, end, bucketMs };
}

/**
 * Minutes from two sources as one list, oldest first: `pending` (the metrics object's, not yet in
 * D1) wins over `stored` for the same minute, being the same counts or newer.
 */
export function unionMinutes(stored: readonly MinuteTotals[], pending: readonly MinuteTotals[]): MinuteTotals[] {
  const byStart = new Map<number, MinuteTotals>();
  for (const minute of stored) byStart.set(minute.start, minute);
  for (const minute of pending) byStart.set(minute.start, minute);
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}

/** Sums stored minutes into the contiguous buckets of `range`; minutes outside it are ignored. */
export function historyView(input: { minutes: readonly MinuteTotals[]; range: DashboardRange; now: number }): HistoryView {
  const { start, end, bucketMs } = rangeBounds(input.range, input.now);
  const count = (end - start) / bucketMs;
  const sums = Array.from({ length: count }, () => emptyTotals());
  for (const minute of input.minutes) {
    if (minute.start < start || minute.start >= end) continue;
    mergeTotalsInto(sums[Math.floor((minute.start - start) / bucketMs)]!, minute.totals);
  }
  const models = new Set<string>();
  const buckets = sums.map((totals, i): HistoryBucket => {
    const bucket: HistoryBucket = {
      start: (start + i * bucketMs) / 1000,
      requests: { complete: 0, length: 0, cancelled: 0, failed: 0 },
      refused: emptyRefusals(),
      prompt_tokens: 0,
      completion_tokens: 0,
      failovers: 0,
      ttft_ms: { count: 0, p50: null, p99: null },
    };
    const ttft = emptyHistogram(TTFT_BUCKETS_SECONDS);
    for (const [model, entry] of Object.entries(totals.models)) {
      models.add(model);
      for (const outcome of OUTCOMES) bucket.requests[outcome] += entry.requests[outcome];
      bucket.prompt_tokens += entry.promptTokens;
      bucket.completion_tokens += entry.generatedTokens;
      bucket.failovers += entry.failovers;
      mergeHistogramInto(ttft, entry.ttft);
    }
    for (const reason of REFUSAL_REASONS) bucket.refused[reason] += totals.refused[reason] ?? 0;
    bucket.ttft_ms = { count: observationCount(ttft), p50: toMs(histogramQuantile(ttft, TTFT_BUCKETS_SECONDS, 0.5)), p99: toMs(histogramQuantile(ttft, TTFT_BUCKETS_SECONDS, 0.99)) };
    return bucket;
  });
  return { bucketSeconds: bucketMs / 1000, start: start / 1000, end: end / 1000, buckets, models: [...models].sort() };
}

function toMs(seconds: number | null): number | null {
  return seconds === null ? null : Math.round(seconds * 1000 * 10) / 10;
}
