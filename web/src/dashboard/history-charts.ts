/**
 * The dashboard's four traffic charts from `GET /admin/dashboard/history`: requests by outcome,
 * tokens, time to first token (p50 and p99) and failovers — each as aligned series for uPlot and
 * a sentence of totals for readers who cannot see the canvas. Pure; tested by tables in
 * test/web/dashboard-series.test.ts.
 */
import type { DashboardHistory, DashboardRange, HistoryBucket } from "../../../wire/dashboard.js";
import { formatCount, formatDuration } from "./format.js";
import { alignToSlots, peak, slotSeconds, total, type ChartSeries, type SlotRange } from "./series.js";

export interface TrafficCharts {
  requests: { series: ChartSeries; summary: string };
  tokens: { series: ChartSeries; summary: string };
  ttft: { series: ChartSeries; summary: string };
  failovers: { series: ChartSeries; summary: string };
  /** The x range in seconds. */
  range: { start: number; end: number };
}

const RANGE_WORDS: Record<DashboardRange, string> = { hour: "Last hour", day: "Last 24 hours" };

/** Requests refused before any generation (429s and 503s), every code summed. */
export function refusedIn(bucket: HistoryBucket): number {
  const r = bucket.refused;
  return r.rate_limit_exceeded + r.insufficient_quota + r.limiter_unavailable + r.no_workers + r.overloaded + r.pool_unavailable;
}

/** The slots a history covers: its own start, bucket width and end. */
export function historySlots(history: Pick<DashboardHistory, "start" | "end" | "bucket_seconds">): SlotRange {
  const step = Math.max(1, history.bucket_seconds);
  return { startMs: history.start * 1000, stepMs: step * 1000, count: Math.max(0, Math.ceil((history.end - history.start) / step)) };
}

export function trafficCharts(history: DashboardHistory): TrafficCharts {
  const slots = historySlots(history);
  const x = slotSeconds(slots);
  const at = (b: HistoryBucket): number => b.start * 1000;
  const count = (pick: (b: HistoryBucket) => number) => alignToSlots(history.buckets, slots, at, pick, "zero");
  const latency = (pick: (b: HistoryBucket) => number | null) => alignToSlots(history.buckets, slots, at, pick, "gap");
  const when = RANGE_WORDS[history.range];

  const answered = count((b) => b.requests.complete + b.requests.length);
  const cancelled = count((b) => b.requests.cancelled);
  const failed = count((b) => b.requests.failed);
  const refused = count(refusedIn);
  const prompt = count((b) => b.prompt_tokens);
  const completion = count((b) => b.completion_tokens);
  const p50 = latency((b) => (b.ttft_ms.count > 0 ? b.ttft_ms.p50 : null));
  const p99 = latency((b) => (b.ttft_ms.count > 0 ? b.ttft_ms.p99 : null));
  const failovers = count((b) => b.failovers);
  const firstTokens = history.buckets.reduce((sum, b) => sum + b.ttft_ms.count, 0);
  const worstP99 = peak(p99);
  const worstP50 = peak(p50);

  return {
    range: { start: history.start, end: history.end },
    requests: {
      series: {
        x,
        lines: [
          { label: "Answered", colourVar: "--chart-1", values: answered, fill: true },
          { label: "Cancelled", colourVar: "--chart-3", values: cancelled },
          { label: "Failed", colourVar: "--chart-2", values: failed },
          { label: "Refused", colourVar: "--chart-5", values: refused },
        ],
      },
      summary: `${when}: ${formatCount(total(answered))} answered, ${formatCount(total(cancelled))} cancelled, ${formatCount(total(failed))} failed, ${formatCount(total(refused))} refused (429 or 503).`,
    },
    tokens: {
      series: {
        x,
        lines: [
          { label: "Prompt", colourVar: "--chart-1", values: prompt, fill: true },
          { label: "Completion", colourVar: "--chart-4", values: completion, fill: true },
        ],
      },
      summary: `${when}: ${formatCount(total(prompt))} prompt tokens, ${formatCount(total(completion))} completion tokens.`,
    },
    ttft: {
      series: {
        x,
        lines: [
          { label: "p50", colourVar: "--chart-1", values: p50 },
          { label: "p99", colourVar: "--chart-2", values: p99 },
        ],
      },
      summary:
        firstTokens === 0
          ? `${when}: no first tokens yet.`
          : `${when}: ${formatCount(firstTokens)} first tokens; per ${history.bucket_seconds >= 120 ? `${history.bucket_seconds / 60} minutes` : "minute"}, p50 at most ${formatDuration(worstP50)} and p99 at most ${formatDuration(worstP99)}.`,
    },
    failovers: {
      series: { x, lines: [{ label: "Failovers", colourVar: "--chart-3", values: failovers, fill: true }] },
      summary: `${when}: ${formatCount(total(failovers))} ${total(failovers) === 1 ? "failover" : "failovers"} to another worker.`,
    },
  };
}
