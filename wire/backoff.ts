/**
 * Retry timing shared by every HTTP client in the project — the gateway (storing a turn,
 * retrying a provider), the Discord bot (calls to the gateway) and the GPU agent (heartbeats):
 * exponential from a base, capped, optionally spread by jitter so clients that failed together do
 * not come back in lockstep. Pure: the random draw is passed in.
 */

export interface BackoffInput {
  /** 1 for the first retry. */
  attempt: number;
  baseMs: number;
  maxMs: number;
  /** Spread of the capped delay: a random draw in [0, 1) scales it between `low` and `high`. */
  jitter?: { random: number; low: number; high: number };
}

/** base · 2^(attempt − 1), capped at maxMs, then jittered; whole milliseconds. */
export function backoffDelayMs(input: BackoffInput): number {
  const capped = Math.min(input.maxMs, input.baseMs * 2 ** Math.min(Math.max(0, input.attempt - 1), 30));
  if (!input.jitter) return capped;
  const { random, low, high } = input.jitter;
  return Math.round(capped * (low + (high - low) * random));
}
