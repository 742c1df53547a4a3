/**
 * Retry delays for gateway calls that failed before any response (network errors). Pure: the
 * random source is passed in so tests can pin it.
 */

export interface BackoffInput {
  /** 1 for the first retry. */
  attempt: number;
  baseMs: number;
  maxMs: number;
  /** A number in [0, 1). */
  random: number;
}

/** Exponential backoff with "full jitter" between half and all of the capped delay. */
export function backoffDelayMs(input: BackoffInput): number {
  const capped = Math.min(input.maxMs, input.baseMs * 2 ** Math.max(0, input.attempt - 1));
  return Math.round(capped / 2 + (capped / 2) * input.random);
}
