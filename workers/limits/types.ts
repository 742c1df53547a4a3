/**
 * Types of the limits engine: what a key (or an end user of a bot key) may use, and what the
 * limiter Durable Object answers. Everything crossing the RPC boundary is a plain object.
 */

/** One scope's limits; null = unlimited. */
export interface Limits {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  maxConcurrent: number | null;
  tokensPerDay: number | null;
}

/** A key's limits plus the limits each of its end users (the request's `user`) gets. */
export interface KeyLimits extends Limits {
  endUser: Limits;
}

/** The four limit kinds, named as in messages and logs. */
export type LimitKind = "requests_per_minute" | "tokens_per_minute" | "max_concurrent" | "tokens_per_day";

/** One OpenAI-style header trio (limit, remaining, time until back to the initial state). */
export interface UsageTrio {
  limit: number;
  remaining: number;
  resetMs: number;
}

/** What a limiter reports after every call, for the x-ratelimit-* headers; null = unlimited. */
export interface UsageSnapshot {
  requests: UsageTrio | null;
  /** The more constraining of tokens-per-minute and tokens-per-day (smaller remaining). */
  tokens: UsageTrio | null;
}

/** Why a request was not admitted. */
export interface Rejection {
  kind: LimitKind;
  /** The day's settled usage alone leaves no room: only the next UTC day helps (insufficient_quota). */
  quotaExhausted: boolean;
  /** The request alone exceeds the limit: no wait ever helps. */
  tooLarge: boolean;
  limit: number;
  /** Usage counted against this limit at decision time (reservations included). */
  used: number;
  /** What this request asked for (1 request, or its estimated tokens). */
  requested: number;
  /** Of `used`, tokens still reserved by requests in flight (daily quota only). */
  reserved?: number;
}

/** Input of RateLimiter.admit. */
export interface AdmitInput {
  /** The gateway's request id, kept with the reservation for debugging. */
  requestId: string;
  /** Prompt tokens + max_tokens. */
  estimatedTokens: number;
  limits: Limits;
  /** Lease lifetime; a crashed request's slot frees after this. */
  leaseTtlMs: number;
  /** Injectable clock for tests; production omits it so the object's own clock is used. */
  now?: number;
}

export type AdmitResult =
  | { ok: true; leaseId: string; usage: UsageSnapshot }
  | { ok: false; rejection: Rejection; retryAfterMs: number; usage: UsageSnapshot };

/** Input of RateLimiter.settle. */
export interface SettleInput {
  leaseId: string;
  /** Real usage (prompt + completion, summed over failover attempts); 0 for a request that failed. */
  actualTokens: number;
  /** The request's line in the usage ledger, buffered by the key's limiter (stateless completions). */
  usage?: UsageEntry;
  now?: number;
}

/** One request's entry, as a settlement reports it. */
export interface UsageEntry {
  keyId: string;
  endUser: string;
  model: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  promptTokens: number;
  completionTokens: number;
  failed: boolean;
}


export interface SettleResult {
  /** False when the lease was already settled, expired or unknown (settling is idempotent). */
  settled: boolean;
}
