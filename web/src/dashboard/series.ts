/**
 * From history buckets to the aligned arrays uPlot draws: one x slot per step over the whole
 * range (whether or not the gateway sent every bucket), a quiet stretch as zero requests — but as
 * a gap for latencies, which have no value without requests. Pure; the
 * table tests are in test/web/dashboard-series.test.ts.
 */

/** One line of a chart: its legend label, the CSS variable of its colour, one value per slot. */
export interface ChartLine {
  label: string;
  colourVar: string;
  values: Array<number | null>;
  /** A light fill under the line (counts), or none (latencies). */
  fill?: boolean;
}

export interface ChartSeries {
  /** Slot starts, in seconds since the epoch (uPlot's time unit). */
  x: number[];
  lines: ChartLine[];
}

export interface SlotRange {
  /** First slot's start, ms since the epoch, a multiple of stepMs. */
  startMs: number;
  stepMs: number;
  count: number;
}

/** Slot starts in seconds, for uPlot's x. */
export function slotSeconds(range: SlotRange): number[] {
  return Array.from({ length: range.count }, (_, i) => (range.startMs + i * range.stepMs) / 1000);
}

/** How a missing slot reads: zero (a count: nothing happened) or a gap (a latency: no value). */
export type Missing = "zero" | "gap";

/**
 * One value per slot from buckets that start at `startOf(bucket)` (ms): buckets outside the range
 * are left out, two in one slot are added (counts) — latencies must not be added, so a caller
 * passes coarser buckets only for counts — and slots without a bucket are 0 or null.
 */
export function alignToSlots<B>(buckets: readonly B[], range: SlotRange, startOf: (b: B) => number, value: (b: B) => number | null, missing: Missing): Array<number | null> {
  const out: Array<number | null> = new Array<number | null>(range.count).fill(missing === "zero" ? 0 : null);
  for (const bucket of buckets) {
    const index = Math.floor((startOf(bucket) - range.startMs) / range.stepMs);
    if (index < 0 || index >= range.count) continue;
    const v = value(bucket);
    if (v === null || !Number.isFinite(v)) continue;
    const previous = out[index];
    out[index] = previous === null || previous === undefined || missing === "gap" ? v : previous + v;
  }
  return out;
}

/** The sum of a line's values (nulls skipped): the totals the chart's summary states. */
export function total(values: ReadonlyArray<number | null>): number {
  let sum = 0;
  for (const v of values) if (v !== null) sum += v;
  return sum;
}

/** The largest value of a line, or null when it has none. */
export function peak(values: ReadonlyArray<number | null>): number | null {
  let max: number | null = null;
  for (const v of values) if (v !== null && (max === null || v > max)) max = v;
  return max;
}

/**
 * Values with no value on either side: a line cannot show them (a minute of traffic between quiet
 * ones), so the chart draws them as dots. Null when there are none, as uPlot's points filter takes.
 */
export function isolatedIndices(values: ReadonlyArray<number | null>): number[] | null {
  const found: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null) continue;
    const before = i === 0 ? null : values[i - 1];
    const after = i === values.length - 1 ? null : values[i + 1];
    if ((before === null || before === undefined) && (after === null || after === undefined)) found.push(i);
  }
  return found.length === 0 ? null : found;
}

/** Whole-number steps for a count axis, so it never reads "0, 0, 1, 1". */
export const COUNT_AXIS_STEPS: number[] = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1_000, 2_000, 2_500, 5_000, 10_000, 20_000, 25_000, 50_000, 100_000, 200_000, 250_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000];
