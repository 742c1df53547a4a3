/**
 * Response headers in OpenAI's formats: x-ratelimit-{limit,remaining,reset}-{requests,tokens},
 * with reset as a Go-style duration ("12ms", "1s", "6m0s", "23h47m36.648s"), and Retry-After in
 * whole seconds (at least 1, rounded up so a client waiting that long is never early).
 */
import type { UsageSnapshot, UsageTrio } from "./types.js";

const MS_PER_SECOND = 1_000;
const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;

/** Formats a duration the way OpenAI's reset headers do (Go's time.Duration, millisecond precision). */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return "0s";
  if (total < MS_PER_SECOND) return `${total}ms`;
  const hours = Math.floor(total / MS_PER_HOUR);
  const minutes = Math.floor((total % MS_PER_HOUR) / MS_PER_MINUTE);
  const secondsMs = total % MS_PER_MINUTE;
  const whole = Math.floor(secondsMs / MS_PER_SECOND);
  const frac = secondsMs % MS_PER_SECOND;
  const seconds = frac === 0 ? `${whole}` : `${whole}.${String(frac).padStart(3, "0").replace(/0+$/, "")}`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** Retry-After seconds: an integer ≥ 1, never earlier than the limiter's exact answer. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / MS_PER_SECOND));
}

function trioHeaders(name: "requests" | "tokens", trio: UsageTrio | null): Record<string, string> {
  // An unlimited kind has no meaningful limit to report, so its trio is left out.
  if (trio === null) return {};
  return {
    [`x-ratelimit-limit-${name}`]: String(trio.limit),
    [`x-ratelimit-remaining-${name}`]: String(trio.remaining),
    [`x-ratelimit-reset-${name}`]: formatResetDuration(trio.resetMs),
  };
}

/** The x-ratelimit-* headers of a snapshot (already combined across key and end user). */
export function rateLimitHeaders(usage: UsageSnapshot): Record<string, string> {
  return { ...trioHeaders("requests", usage.requests), ...trioHeaders("tokens", usage.tokens) };
}
