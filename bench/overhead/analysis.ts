/**
 * The overhead benchmark's arithmetic, pure: per-cell summaries from raw samples, each gateway's
 * overhead over a baseline path (absolute ms and ratio, medians and p99s compared separately),
 * and a traced request's binding calls split at its first call to the GPU.
 */
import { summarize, type Summary } from "../lib/stats.js";
import type { CellRun } from "./http-load.js";

export const PATH_IDS = ["direct", "bare-miniflare", "portkey", "altiplano-miniflare", "bare-wrangler", "altiplano-wrangler"] as const;
export type PathId = (typeof PATH_IDS)[number];

/** What each path is, for tables and legends. */
export const PATH_LABELS: Record<PathId, string> = {
  direct: "direct to simulator",
  "bare-miniflare": "bare Worker (Miniflare)",
  portkey: "Portkey gateway (Node)",
  "altiplano-miniflare": "Altiplano (Miniflare)",
  "bare-wrangler": "bare Worker (wrangler dev)",
  "altiplano-wrangler": "Altiplano (wrangler dev)",
};

export interface CellKey {
  path: PathId;
  concurrency: number;
  stream: boolean;
}

export interface CellResult extends CellKey {
  requests: number;
  errors: number;
  errorExamples: string[];
  /** Successful requests per second in the measured window. */
  throughputRps: number;
  /** Streams: time to the first generated token; non-streaming: time to the first body byte. */
  ttftMs: Summary;
  totalMs: Summary;
}

/** Summarizes one cell's samples. */
export function summarizeCell(key: CellKey, run: CellRun): CellResult {
  const first = run.samples.map((s) => (key.stream ? s.firstTokenMs : s.firstByteMs));
  return {
    ...key,
    requests: run.samples.length,
    errors: run.errors,
    errorExamples: run.errorExamples,
    throughputRps: run.windowMs > 0 ? run.samples.length / (run.windowMs / 1000) : NaN,
    ttftMs: summarize(first.filter(Number.isFinite)),
    totalMs: summarize(run.samples.map((s) => s.totalMs)),
  };
}

/** One number of a path against a baseline: difference and ratio. */
export interface Delta {
  ms: number;
  ratio: number;
}

export interface Overhead extends CellKey {
  baseline: PathId;
  ttftP50: Delta;
  ttftP99: Delta;
  totalP50: Delta;
  totalP99: Delta;
}

function delta(value: number, base: number): Delta {
  return { ms: value - base, ratio: base > 0 ? value / base : NaN };
}

/** `path`'s overhead over `baseline` in every (concurrency, stream) cell both have. */
export function overheads(cells: readonly CellResult[], o: { path: PathId; baseline: PathId }): Overhead[] {
  const out: Overhead[] = [];
  for (const cell of cells) {
    if (cell.path !== o.path) continue;
    const base = cells.find((b) => b.path === o.baseline && b.concurrency === cell.concurrency && b.stream === cell.stream);
    if (base === undefined) continue;
    out.push({
      path: o.path,
      baseline: o.baseline,
      concurrency: cell.concurrency,
      stream: cell.stream,
      ttftP50: delta(cell.ttftMs.p50, base.ttftMs.p50),
      ttftP99: delta(cell.ttftMs.p99, base.ttftMs.p99),
      totalP50: delta(cell.totalMs.p50, base.totalMs.p50),
      totalP99: delta(cell.totalMs.p99, base.totalMs.p99),
    });
  }
  return out;
}

/** A binding call the counting entry saw, in order. */
export interface TraceEvent {
  kind: "d1" | "do" | "upstream";
  name: string;
}

/** A traced request's calls, split at its first fetch to a GPU worker. */
export interface CallSplit {
  d1Before: number;
  d1After: number;
  /** Durable Object calls by `BINDING.method`. */
  doBefore: Record<string, number>;
  doAfter: Record<string, number>;
  upstream: number;
}

/** Splits one request's events at the first upstream fetch (everything counts as "before" if there is none). */
export function splitAtUpstream(events: readonly TraceEvent[]): CallSplit {
  const split: CallSplit = { d1Before: 0, d1After: 0, doBefore: {}, doAfter: {}, upstream: 0 };
  let after = false;
  for (const e of events) {
    if (e.kind === "upstream") {
      split.upstream++;
      after = true;
    } else if (e.kind === "d1") {
      if (after) split.d1After++;
      else split.d1Before++;
    } else {
      const bucket = after ? split.doAfter : split.doBefore;
      bucket[e.name] = (bucket[e.name] ?? 0) + 1;
    }
  }
  return split;
}

/** Mean counts over several traced requests of one kind (fractions show calls made only sometimes, e.g. the 1 s pool snapshot). */
export function meanSplit(splits: readonly CallSplit[]): CallSplit {
  const n = Math.max(1, splits.length);
  const addAll = (into: Record<string, number>, from: Record<string, number>): void => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v / n;
  };
  const mean: CallSplit = { d1Before: 0, d1After: 0, doBefore: {}, doAfter: {}, upstream: 0 };
  for (const s of splits) {
    mean.d1Before += s.d1Before / n;
    mean.d1After += s.d1After / n;
    mean.upstream += s.upstream / n;
    addAll(mean.doBefore, s.doBefore);
    addAll(mean.doAfter, s.doAfter);
  }
  return mean;
}

/** Sum of a DO-call bucket. */
export function totalCalls(bucket: Record<string, number>): number {
  return Object.values(bucket).reduce((a, b) => a + b, 0);
}
