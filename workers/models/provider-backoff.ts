/** How long to wait between attempts at a provider. Pure. */
import { backoffDelayMs } from "../../wire/backoff.js";
import type { UpstreamError } from "../upstream/upstream-error.js";

/** First backoff between provider attempts; doubles per attempt up to the cap. */
const PROVIDER_BACKOFF_MS = 250;
const PROVIDER_BACKOFF_CAP_MS = 4_000;

/** Delay before provider attempt `attempt` (1 = the first retry): its Retry-After, else exponential backoff. */
export function providerRetryDelayMs(error: UpstreamError, attempt: number): number {
  if (error.retryAfterSeconds !== null) return error.retryAfterSeconds * 1000;
  return backoffDelayMs({ attempt, baseMs: PROVIDER_BACKOFF_MS, maxMs: PROVIDER_BACKOFF_CAP_MS });
}
