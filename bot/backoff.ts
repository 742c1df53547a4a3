/**
 * Retry delays for gateway calls that failed before any response (network errors). Pure: the
 * random source is passed in so tests can pin it.
 */
import { backoffDelayMs as sharedBackoffMs } from "../wire/backoff.js";

export interface BotBackoffInput {
  /** 1 for the first retry. */
  attempt: number;
  baseMs: number;
  maxMs: number;
  /** A number in [0, 1). */
  random: number;
}

/** Exponential backoff with "full jitter" between half and all of the capped delay. */
export function backoffDelayMs(input: BotBackoffInput): number {
  return sharedBackoffMs({ attempt: input.attempt, baseMs: input.baseMs, maxMs: input.maxMs, jitter: { random: input.random, low: 0.5, high: 1 } });
}
