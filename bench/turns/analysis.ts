/**
 * bench:turns' numbers: turns bucketed by the prompt they sent (history + new message, in
 * tokens), each bucket's time and CPU per turn, and the ratio the goal is stated in. Pure.
 */
import { mean, summarize, type Summary } from "../lib/stats.js";

/** One measured turn. */
export interface TurnSample {
  conversation: number;
  /** 1-based turn number within its conversation. */
  turn: number;
  /** The turn's prompt as the gateway counted it (usage.prompt_tokens): history plus the new message. */
  promptTokens: number;
  /** Oldest messages the gateway left out to fit the window. */
  droppedMessages: number;
  /** Client time from sending the request to the end of the answer's body. */
  totalMs: number;
  /** CPU of the workerd process (gateway, D1, Durable Objects) from this turn's start to the next's; null when not measured. */
  workerdCpuMs: number | null;
  /** CPU of the simulator process over the same span; null when not measured. */
  simCpuMs: number | null;
}

export interface Bucket {
  /** [from, to) in prompt tokens. */
  from: number;
  to: number;
  turns: number;
  totalMs: Summary;
  workerdCpuMs: Summary;
  simCpuMs: Summary;
}

/** Bucket edges: every `width` tokens from 0, the last one closed at `contextLength`. */
export function bucketEdges(width: number, contextLength: number): Array<[number, number]> {
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`bucket width must be a positive integer, got ${width}`);
  const edges: Array<[number, number]> = [];
  for (let from = 0; from < contextLength; from += width) edges.push([from, Math.min(from + width, contextLength)]);
  // A last sliver narrower than half a bucket is merged into the one before, so no bucket is a handful of turns.
  const last = edges[edges.length - 1]!;
  if (edges.length > 1 && last[1] - last[0] < width / 2) {
    edges.pop();
    edges[edges.length - 1]![1] = contextLength;
  }
  return edges;
}

const measured = (values: ReadonlyArray<number | null>): number[] => values.filter((v): v is number => v !== null);

/** Turns grouped by prompt size; buckets without turns are left out. */
export function bucketTurns(samples: readonly TurnSample[], edges: ReadonlyArray<readonly [number, number]>): Bucket[] {
  const buckets: Bucket[] = [];
  edges.forEach(([from, to], i) => {
    const last = i === edges.length - 1;
    const inside = samples.filter((s) => s.promptTokens >= from && (s.promptTokens < to || (last && s.promptTokens === to)));
    if (inside.length === 0) return;
    buckets.push({
      from,
      to,
      turns: inside.length,
      totalMs: summarize(inside.map((s) => s.totalMs)),
      workerdCpuMs: summarize(measured(inside.map((s) => s.workerdCpuMs))),
      simCpuMs: summarize(measured(inside.map((s) => s.simCpuMs))),
    });
  });
  return buckets;
}

/** The bucket holding `tokens`, if any turn landed there. */
export function bucketAt(buckets: readonly Bucket[], tokens: number): Bucket | undefined {
  return buckets.find((b) => tokens >= b.from && tokens < b.to);
}

export interface GoalRatio {
  /** Prompt sizes compared: the long one's bucket over the short one's. */
  shortTokens: number;
  longTokens: number;
  /** p50 time per turn, long / short. */
  totalP50: number;
  /** Mean workerd CPU per turn, long / short (NaN when not measured). */
  workerdCpu: number;
}

/** The goal's ratio: a turn at `longTokens` of prompt over one at `shortTokens`, by bucket. */
export function goalRatio(buckets: readonly Bucket[], shortTokens: number, longTokens: number): GoalRatio {
  const short = bucketAt(buckets, shortTokens);
  const long = bucketAt(buckets, longTokens);
  return {
    shortTokens,
    longTokens,
    totalP50: short && long ? long.totalMs.p50 / short.totalMs.p50 : NaN,
    workerdCpu: short && long ? long.workerdCpuMs.mean / short.workerdCpuMs.mean : NaN,
  };
}

/** Mean of a field over turns, for the run's headline. */
export function meanOf(samples: readonly TurnSample[], pick: (s: TurnSample) => number | null): number {
  return mean(measured(samples.map(pick)));
}
