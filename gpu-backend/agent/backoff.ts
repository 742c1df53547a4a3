/** Pure retry timing for the agent's heartbeat loop. */
import { backoffDelayMs } from "../../wire/backoff.js";

/**
 * Delay before the next poll: the poll interval while heartbeats succeed; after failures,
 * doubling from it up to `maxBackoffMs`, with ±20 % jitter so agents that lost the same gateway
 * do not come back in lockstep. `random` returns [0, 1).
 */
export function nextDelayMs(options: {
  pollIntervalMs: number;
  maxBackoffMs: number;
  consecutiveFailures: number;
  random: () => number;
}): number {
  const { pollIntervalMs, maxBackoffMs, consecutiveFailures, random } = options;
  if (consecutiveFailures <= 0) return pollIntervalMs;
  // The first failure already doubles the interval: attempt n waits poll · 2^n.
  const jittered = backoffDelayMs({ attempt: consecutiveFailures + 1, baseMs: pollIntervalMs, maxMs: maxBackoffMs, jitter: { random: random(), low: 0.8, high: 1.2 } });
  return Math.max(pollIntervalMs, Math.min(maxBackoffMs, jittered));
}

/** Whether a preemption endpoint's answer is a notice: 200 with a body other than empty or FALSE. */
export function isPreemptionNotice(status: number, body: string): boolean {
  if (status !== 200) return false;
  const text = body.trim().toUpperCase();
  return text !== "" && text !== "FALSE";
}
