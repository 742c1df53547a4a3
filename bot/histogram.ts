/**
 * A histogram with fixed bucket bounds: memory stays the same however many values it sees (the
 * bot runs for months; a list of samples would grow with every reply). Prometheus-style buckets:
 * a value lands in the first bucket whose upper bound is >= it, or in the overflow (+Inf) bucket.
 */

/** What a histogram holds at one moment. */
export interface HistogramSnapshot {
  /** Upper bounds of the finite buckets, ascending. */
  bounds: readonly number[];
  /** Per-bucket counts (not cumulative); one more than `bounds`: the last is the overflow bucket. */
  counts: readonly number[];
  count: number;
  sum: number;
}

/** Counts values into fixed buckets. */
export class FixedHistogram {
  readonly #bounds: readonly number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  constructor(bounds: readonly number[]) {
    if (bounds.length === 0) throw new Error("a histogram needs at least one bucket bound");
    for (let i = 1; i < bounds.length; i++) {
      if (!((bounds[i] ?? 0) > (bounds[i - 1] ?? 0))) throw new Error(`bucket bounds must ascend strictly: ${bounds.join(", ")}`);
    }
    this.#bounds = [...bounds];
    this.#counts = new Array<number>(bounds.length + 1).fill(0);
  }

  /** Counts one value (NaN is ignored: it has no bucket). */
  observe(value: number): void {
    if (Number.isNaN(value)) return;
    let i = 0;
    while (i < this.#bounds.length && value > (this.#bounds[i] ?? Infinity)) i++;
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#sum += value;
    this.#count++;
  }

  snapshot(): HistogramSnapshot {
    return { bounds: this.#bounds, counts: [...this.#counts], count: this.#count, sum: this.#sum };
  }
}

/** Adds two snapshots with the same bounds (e.g. across restarts). */
export function mergeHistograms(a: HistogramSnapshot, b: HistogramSnapshot): HistogramSnapshot {
  if (a.bounds.length !== b.bounds.length || a.bounds.some((x, i) => x !== b.bounds[i])) throw new Error("histograms have different buckets");
  return { bounds: a.bounds, counts: a.counts.map((c, i) => c + (b.counts[i] ?? 0)), count: a.count + b.count, sum: a.sum + b.sum };
}

/**
 * The upper bound of the bucket holding the q-quantile (0 < q <= 1): the value is at most this.
 * Infinity if it falls in the overflow bucket; null with no values.
 */
export function quantileUpperBound(h: HistogramSnapshot, q: number): number | null {
  if (h.count === 0) return null;
  const rank = Math.max(1, Math.ceil(q * h.count));
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i] ?? 0;
    if (seen >= rank) return h.bounds[i] ?? Infinity;
  }
  return Infinity;
}
