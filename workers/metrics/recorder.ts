/**
 * Per-isolate metrics buffer. A generation's counters are added here in memory; the buffer is
 * sent to the GatewayMetrics object at most once per FLUSH_INTERVAL_MS, by a flush that runs in
 * the background (the recording request's `waitUntil`), never on a request's critical path.
 *
 * Every recorded count is covered by a scheduled flush: the first record after a flush schedules
 * the next one (at least FLUSH_INTERVAL_MS after the previous send started), and later records
 * join that pending flush. A failed send puts its counts back in the buffer for the next flush or
 * the next GET /metrics from this isolate. Counts still buffered when an isolate is evicted are
 * lost — at most about a second of this isolate's traffic — which undercounts, never overcounts.
 *
 * The isolate's instance below is deliberately module-level state, like the pool snapshot cache;
 * tests build their own MetricsRecorder with a fake clock and sink.
 */
import type { Env } from "../env.js";
import { metricsStub } from "./metrics-do.js";
import {
  addGenerationInto,
  addRefusalInto,
  emptyTotals,
  isEmptyTotals,
  mergeTotalsInto,
  type GenerationSummary,
  type RefusalReason,
  type Totals,
} from "./totals.js";

/** Minimum time between two sends from one isolate to the metrics object. */
export const FLUSH_INTERVAL_MS = 1_000;

/** Where a flush sends the buffered counts; a rejection means "try again later". */
export type FlushSink = (delta: Totals) => Promise<unknown>;

export interface RecorderOptions {
  flushIntervalMs: number;
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realTime: RecorderOptions = {
  flushIntervalMs: FLUSH_INTERVAL_MS,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** One isolate's buffer of counts not yet sent, and its flush schedule. */
export class MetricsRecorder {
  private buffer: Totals = emptyTotals();
  private pendingFlush: Promise<void> | null = null;
  private lastSendAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: RecorderOptions = realTime) {}

  /**
   * Counts a finished generation. The returned promise is the flush this call scheduled (give it
   * to `waitUntil`), or an already settled one when a pending flush will carry the counts. Never rejects.
   */
  recordGeneration(model: string, generation: GenerationSummary, sink: FlushSink): Promise<void> {
    addGenerationInto(this.buffer, model, generation);
    return this.schedule(sink);
  }

  /** Counts a request refused before generation; like recordGeneration. */
  recordRefusal(reason: RefusalReason, sink: FlushSink): Promise<void> {
    addRefusalInto(this.buffer, reason);
    return this.schedule(sink);
  }

  /** Takes every buffered count (null if none), e.g. to send along with a read of the totals. */
  take(): Totals | null {
    if (isEmptyTotals(this.buffer)) return null;
    const taken = this.buffer;
    this.buffer = emptyTotals();
    return taken;
  }

  /** Puts counts back after a send that failed. */
  restore(delta: Totals): void {
    mergeTotalsInto(this.buffer, delta);
  }

  private schedule(sink: FlushSink): Promise<void> {
    if (this.pendingFlush) return Promise.resolve();
    const dueAt = this.lastSendAt + this.options.flushIntervalMs;
    // Started in a microtask, so the assignment below happens before the body clears it.
    this.pendingFlush = Promise.resolve().then(async () => {
      const waitMs = dueAt - this.options.now();
      if (waitMs > 0) await this.options.sleep(waitMs);
      // From here on, new records schedule the next flush: this one takes the buffer now.
      this.pendingFlush = null;
      await this.flush(sink);
    });
    return this.pendingFlush;
  }

  private async flush(sink: FlushSink): Promise<void> {
    const delta = this.take();
    if (!delta) return;
    this.lastSendAt = this.options.now();
    try {
      await sink(delta);
    } catch (err) {
      this.restore(delta);
      console.error("metrics: could not flush counters; kept for the next flush", err instanceof Error ? err.message : err);
    }
  }
}

const isolateRecorder = new MetricsRecorder();

function sendTo(env: Pick<Env, "METRICS">): FlushSink {
  return (delta) => metricsStub(env).add(delta);
}

/** Counts a finished generation in this isolate's buffer; pass the result to `waitUntil`. */
export function recordGeneration(env: Pick<Env, "METRICS">, model: string, generation: GenerationSummary): Promise<void> {
  return isolateRecorder.recordGeneration(model, generation, sendTo(env));
}

/** Counts a request refused before generation; pass the result to `waitUntil`. */
export function recordRefusal(env: Pick<Env, "METRICS">, reason: RefusalReason): Promise<void> {
  return isolateRecorder.recordRefusal(reason, sendTo(env));
}

/** This isolate's unsent counts (for GET /metrics to send with its read); restore them if that fails. */
export function takeBufferedMetrics(): Totals | null {
  return isolateRecorder.take();
}

/** Puts counts taken by takeBufferedMetrics back after a failed read. */
export function restoreBufferedMetrics(delta: Totals): void {
  isolateRecorder.restore(delta);
}
