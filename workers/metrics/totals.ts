/**
 * The gateway's own counters as plain, summable data: what one isolate buffers between flushes,
 * and what the GatewayMetrics object holds in total. Pure arithmetic; label sets are bounded
 * (configured model ids, four outcomes, a fixed list of refusal reasons).
 */
import { z } from "zod";
import { MessageStatus } from "../../wire/conversations.js";
import { emptyHistogram, mergeHistogramInto, observeInto, TTFT_BUCKETS_SECONDS } from "./histogram.js";

/** How a generation ended: the stored message status. */
export const OUTCOMES = MessageStatus.options;
export type Outcome = MessageStatus;

/** Error codes of requests refused before any generation started (429s and 503s). */
export const REFUSAL_REASONS = [
  "rate_limit_exceeded",
  "insufficient_quota",
  "limiter_unavailable",
  "no_workers",
  "overloaded",
  "pool_unavailable",
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

const Count = z.number().finite().min(0);

const Histogram = z.object({
  buckets: z.array(Count).length(TTFT_BUCKETS_SECONDS.length + 1),
  sum: Count,
});

const ModelTotals = z.object({
  requests: z.object({ complete: Count, length: Count, cancelled: Count, failed: Count }),
  failovers: Count,
  promptTokens: Count,
  generatedTokens: Count,
  ttft: Histogram,
});
export type ModelTotals = z.infer<typeof ModelTotals>;

/** Counters per model plus refusals by reason. */
export const Totals = z.object({
  models: z.record(z.string().min(1).max(128), ModelTotals),
  refused: z.partialRecord(z.enum(REFUSAL_REASONS), Count),
});
export type Totals = z.infer<typeof Totals>;

/**
 * What storage may hold: the same, except a TTFT histogram whose bucket layout no longer matches
 * (the bounds changed in a deploy) restarts empty instead of discarding every counter.
 */
export const StoredTotals = Totals.extend({
  models: z.record(z.string(), ModelTotals.extend({ ttft: Histogram.catch(() => emptyHistogram(TTFT_BUCKETS_SECONDS)) })),
});

/** Totals stored as JSON text (the metrics object's row, a history minute), or null when unreadable. */
export function parseStoredTotals(text: string): Totals | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = StoredTotals.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/** What the counters read from one finished generation (a GenerationResult has these fields). */
export interface GenerationSummary {
  status: Outcome;
  failovers: number;
  promptTokens: number;
  completionTokens: number;
  timeToFirstTokenMs?: number;
}

export function emptyTotals(): Totals {
  return { models: {}, refused: {} };
}

function emptyModelTotals(): ModelTotals {
  return {
    requests: { complete: 0, length: 0, cancelled: 0, failed: 0 },
    failovers: 0,
    promptTokens: 0,
    generatedTokens: 0,
    ttft: emptyHistogram(TTFT_BUCKETS_SECONDS),
  };
}

function modelEntry(totals: Totals, model: string): ModelTotals {
  let entry = totals.models[model];
  if (!entry) {
    entry = emptyModelTotals();
    totals.models[model] = entry;
  }
  return entry;
}

/** Counts one finished generation of `model` into `totals`. */
export function addGenerationInto(totals: Totals, model: string, generation: GenerationSummary): void {
  const entry = modelEntry(totals, model);
  entry.requests[generation.status] += 1;
  entry.failovers += generation.failovers;
  entry.promptTokens += generation.promptTokens;
  entry.generatedTokens += generation.completionTokens;
  if (generation.timeToFirstTokenMs !== undefined) {
    observeInto(entry.ttft, TTFT_BUCKETS_SECONDS, Math.max(0, generation.timeToFirstTokenMs) / 1000);
  }
}

/** Counts one request refused before generation into `totals`. */
export function addRefusalInto(totals: Totals, reason: RefusalReason): void {
  totals.refused[reason] = (totals.refused[reason] ?? 0) + 1;
}

/** Adds every counter of `from` to `into`. */
export function mergeTotalsInto(into: Totals, from: Totals): void {
  for (const [model, delta] of Object.entries(from.models)) {
    const entry = modelEntry(into, model);
    for (const outcome of OUTCOMES) entry.requests[outcome] += delta.requests[outcome];
    entry.failovers += delta.failovers;
    entry.promptTokens += delta.promptTokens;
    entry.generatedTokens += delta.generatedTokens;
    mergeHistogramInto(entry.ttft, delta.ttft);
  }
  for (const reason of REFUSAL_REASONS) {
    const count = from.refused[reason];
    if (count !== undefined) into.refused[reason] = (into.refused[reason] ?? 0) + count;
  }
}

/** Whether `totals` counts nothing (nothing to flush). */
export function isEmptyTotals(totals: Totals): boolean {
  return Object.keys(totals.models).length === 0 && Object.keys(totals.refused).length === 0;
}

/** Whether `code` names a refusal counted by `altiplano_requests_refused_total`. */
export function isRefusalReason(code: string | null): code is RefusalReason {
  return code !== null && (REFUSAL_REASONS as readonly string[]).includes(code);
}
