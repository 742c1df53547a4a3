/**
 * Fixed-bucket histograms as plain data (so they can be summed across isolates and stored):
 * per-bucket counts, not cumulative, with a final +Inf bucket, and the sum of observations.
 */

/**
 * Time-to-first-token buckets, in seconds. From a warm worker's tens of milliseconds up to the
 * minutes a failover across slow workers can take; boundaries follow Prometheus's usual 1-2.5-5
 * steps so quantile estimates stay within a factor of about two.
 */
export const TTFT_BUCKETS_SECONDS: readonly number[] = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Observations per bucket (length bounds + 1) and their sum. */
export interface HistogramCounts {
  buckets: number[];
  sum: number;
}

/** A histogram with no observations for `bounds`. */
export function emptyHistogram(bounds: readonly number[]): HistogramCounts {
  return { buckets: new Array<number>(bounds.length + 1).fill(0), sum: 0 };
}

/** Index of the bucket a value falls in: the first bound it does not exceed (`le` is inclusive), else +Inf. */
export function bucketIndex(bounds: readonly number[], value: number): number {
  for (let i = 0; i < bounds.length; i++) if (value <= bounds[i]!) return i;
  return bounds.length;
}

/** Adds one observation to `into`. */
export function observeInto(into: HistogramCounts, bounds: readonly number[], value: number): void {
  const index = bucketIndex(bounds, value);
  into.buckets[index] = (into.buckets[index] ?? 0) + 1;
  into.sum += value;
}

/** Adds every observation of `from` to `into` (same bounds). */
export function mergeHistogramInto(into: HistogramCounts, from: HistogramCounts): void {
  if (into.buckets.length !== from.buckets.length) throw new Error("cannot merge histograms with different buckets");
  for (let i = 0; i < from.buckets.length; i++) into.buckets[i] = (into.buckets[i] ?? 0) + (from.buckets[i] ?? 0);
  into.sum += from.sum;
}

/** How many observations a histogram holds. */
export function observationCount(histogram: HistogramCounts): number {
  return histogram.buckets.reduce((total, count) => total + count, 0);
}
