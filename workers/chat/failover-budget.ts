/**
 * How long the next attempt of a generation may wait for its first token. Failover is bounded
 * twice: by the number of attempts, and by a deadline on how long the client goes without a
 * token (since the request started, or since the last token of a stream being resumed), so
 * several slow workers in a row cannot keep a user waiting for minutes.
 */

export interface AttemptBudgetInput {
  nowMs: number;
  /** When the request started, or when its last token arrived. */
  lastProgressMs: number;
  /** FAILOVER_DEADLINE_MS: the longest a client waits without a token while workers are tried. */
  deadlineMs: number;
  /** FIRST_TOKEN_TIMEOUT_MS: the longest one worker is given for its first token. */
  firstTokenTimeoutMs: number;
}

/** Milliseconds the next attempt may wait for a token, or null when the deadline has passed. */
export function nextAttemptWaitMs(input: AttemptBudgetInput): number | null {
  const left = input.deadlineMs - Math.max(0, input.nowMs - input.lastProgressMs);
  if (left <= 0) return null;
  return Math.min(input.firstTokenTimeoutMs, left);
}
