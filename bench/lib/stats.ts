/** Summary statistics for benchmark samples. Percentiles use linear interpolation between ranks. */

/** The q-quantile (0..1) of already sorted ascending values; NaN when empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (n === 1) return sorted[0]!;
  const rank = Math.min(1, Math.max(0, q)) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** The q-quantile (0..1) of values in any order; does not modify the input. */
export function quantile(values: ArrayLike<number>, q: number): number {
  return quantileSorted(Float64Array.from(values).sort(), q);
}

/** Arithmetic mean; NaN when empty. */
export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/** Mean, median, p90, p99, min and max in one pass over a sorted copy. */
export interface Summary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

/** Summary of the samples (NaN fields when there are none). */
export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    mean: mean(sorted),
    p50: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
    min: sorted.length === 0 ? NaN : sorted[0]!,
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
  };
}
