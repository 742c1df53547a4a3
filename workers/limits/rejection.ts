/**
 * Turns a limiter's rejection into the 429 a client sees, in OpenAI's shape: `rate_limit_exceeded`
 * (type `requests` or `tokens`, as OpenAI sets it) or `insufficient_quota` when the day's quota is
 * used up. `x-should-retry: false` when waiting cannot help soon (quota gone, or a request larger
 * than the limit itself), so the official SDK stops retrying.
 */
import { GatewayError } from "../errors.js";
import { formatResetDuration, rateLimitHeaders, retryAfterSeconds } from "./headers.js";
import type { Rejection, UsageSnapshot } from "./types.js";

export type Scope = "key" | "end_user";

/** Wait before retrying after the limiter could not be reached. */
export const LIMITER_UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

const KIND_LABEL = {
  requests_per_minute: "requests per minute (RPM)",
  tokens_per_minute: "tokens per minute (TPM)",
  max_concurrent: "concurrent requests",
  tokens_per_day: "tokens per day (TPD)",
} as const;

function scopeLabel(scope: Scope): string {
  return scope === "key" ? "this API key" : "this end user (the request's `user`) of this API key";
}

/**
 * "Limit 100, Used 70, Left 30, Requested 40": the figures in the words agree with each other and
 * with the x-ratelimit-* headers. Token limits say what is left, and what of the use is only
 * reserved by requests still running (which usually settle lower).
 */
export function usageFigures(r: Rejection): string {
  if (r.kind === "requests_per_minute") return `Limit ${r.limit}, Used ${r.used}, Requested ${r.requested}`;
  if (r.kind === "max_concurrent") return `Limit ${r.limit}, In flight ${r.used}`;
  const reserved = r.reserved ? ` (${r.reserved} reserved by requests in flight)` : "";
  return `Limit ${r.limit}, Used ${r.used}${reserved}, Left ${Math.max(0, r.limit - r.used)}, Requested ${r.requested}`;
}

function message(r: Rejection, scope: Scope, retryAfterMs: number): string {
  const where = `${KIND_LABEL[r.kind]} on ${scopeLabel(scope)}`;
  if (r.tooLarge) {
    return r.kind === "requests_per_minute" || r.kind === "max_concurrent"
      ? `Requests are not allowed: the limit for ${where} is ${r.limit}.`
      : `Request too large for ${where}: Limit ${r.limit}, Requested ${r.requested}. Lower max_tokens or shorten the conversation.`;
  }
  if (r.quotaExhausted) {
    return `You exceeded the daily token quota for ${scopeLabel(scope)}: ${usageFigures(r)}. The quota resets at 00:00 UTC (in ${formatResetDuration(retryAfterMs)}).`;
  }
  if (r.kind === "max_concurrent") return `Rate limit reached for ${where}: ${usageFigures(r)}. Please try again when one of them finishes.`;
  return `Rate limit reached for ${where}: ${usageFigures(r)}. Please try again in ${formatResetDuration(retryAfterMs)}.`;
}

/** The 429 for a rejection, with Retry-After, x-ratelimit-* and, when retrying is pointless, x-should-retry: false. */
export function rejectionError(input: { rejection: Rejection; retryAfterMs: number; usage: UsageSnapshot; scope: Scope }): GatewayError {
  const { rejection: r, retryAfterMs, usage, scope } = input;
  const shouldNotRetry = r.quotaExhausted || r.tooLarge;
  const headers: Record<string, string> = {
    ...rateLimitHeaders(usage),
    "retry-after": String(retryAfterSeconds(retryAfterMs)),
    ...(shouldNotRetry ? { "x-should-retry": "false" } : {}),
  };
  if (r.quotaExhausted) {
    return new GatewayError({ status: 429, type: "insufficient_quota", code: "insufficient_quota", message: message(r, scope, retryAfterMs), headers });
  }
  const type = r.kind === "requests_per_minute" || r.kind === "max_concurrent" ? "requests" : "tokens";
  return new GatewayError({ status: 429, type, code: "rate_limit_exceeded", message: message(r, scope, retryAfterMs), headers });
}

/** The 503 when a limiter Durable Object cannot be reached: fail closed, never bypass a quota. */
export function limiterUnavailableError(): GatewayError {
  return new GatewayError({
    status: 503,
    type: "service_unavailable_error",
    code: "limiter_unavailable",
    message: "The rate limiter is temporarily unavailable, so the request was not admitted. Please retry shortly.",
    headers: { "retry-after": String(LIMITER_UNAVAILABLE_RETRY_AFTER_SECONDS) },
  });
}
