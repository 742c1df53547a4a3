/**
 * The calibration's arithmetic, pure: the real run summarized with the simulation's own
 * definitions (requests arriving in the window are measured; throughput counts output tokens of
 * requests completed inside it; hit rate = cached / prompt tokens of measured requests), and the
 * difference between the two.
 */
import { summarize, type Summary } from "../lib/stats.js";
import type { RealRequest } from "./real-run.js";

export interface RunSummary {
  measuredRequests: number;
  failedRequests: number;
  ttftMs: Summary;
  prefixCacheHitRate: number;
  outputTokensPerS: number;
}

/** The real run's numbers over the window [fromMs, untilMs). */
export function summarizeReal(requests: readonly RealRequest[], window: { fromMs: number; untilMs: number }): RunSummary {
  const measured = requests.filter((r) => r.arrivalMs >= window.fromMs && r.arrivalMs < window.untilMs);
  const ok = measured.filter((r) => r.ok);
  const prompt = ok.reduce((a, r) => a + r.promptTokens, 0);
  const cached = ok.reduce((a, r) => a + r.cachedTokens, 0);
  const windowTokens = requests
    .filter((r) => r.ok && r.completedMs >= window.fromMs && r.completedMs < window.untilMs)
    .reduce((a, r) => a + r.completionTokens, 0);
  return {
    measuredRequests: measured.length,
    failedRequests: measured.length - ok.length,
    ttftMs: summarize(ok.map((r) => r.ttftMs).filter(Number.isFinite)),
    prefixCacheHitRate: prompt === 0 ? NaN : cached / prompt,
    outputTokensPerS: windowTokens / ((window.untilMs - window.fromMs) / 1000),
  };
}

export interface Difference {
  metric: string;
  real: number;
  simulated: number;
  /** real - simulated */
  absolute: number;
  /** (real - simulated) / simulated */
  relative: number;
}

/** Real against simulated, metric by metric. */
export function differences(real: RunSummary, simulated: RunSummary): Difference[] {
  const row = (metric: string, r: number, s: number): Difference => ({ metric, real: r, simulated: s, absolute: r - s, relative: s === 0 ? NaN : (r - s) / s });
  return [
    row("TTFT mean (ms)", real.ttftMs.mean, simulated.ttftMs.mean),
    row("TTFT p50 (ms)", real.ttftMs.p50, simulated.ttftMs.p50),
    row("TTFT p99 (ms)", real.ttftMs.p99, simulated.ttftMs.p99),
    row("prefix-cache hit rate", real.prefixCacheHitRate, simulated.prefixCacheHitRate),
    row("output tokens/s", real.outputTokensPerS, simulated.outputTokensPerS),
    row("measured requests", real.measuredRequests, simulated.measuredRequests),
  ];
}
