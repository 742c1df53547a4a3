import { describe, expect, it } from "vitest";
import { formatResetDuration, rateLimitHeaders, retryAfterSeconds } from "../../workers/limits/headers.js";
import { rejectionError } from "../../workers/limits/rejection.js";
import type { Rejection } from "../../workers/limits/types.js";

describe("formatResetDuration (OpenAI / Go duration style)", () => {
  it.each([
    [0, "0s"],
    [12, "12ms"],
    [0.2, "1ms"],
    [999, "999ms"],
    [1_000, "1s"],
    [1_500, "1.5s"],
    [6_250, "6.25s"],
    [59_999, "59.999s"],
    [60_000, "1m0s"],
    [360_000, "6m0s"],
    [90_000, "1m30s"],
    [3_600_000, "1h0m0s"],
    [85_656_648, "23h47m36.648s"],
  ])("%s ms → %s", (ms, text) => {
    expect(formatResetDuration(ms)).toBe(text);
  });
});

describe("retryAfterSeconds", () => {
  it.each([
    [1, 1],
    [999, 1],
    [1_000, 1],
    [1_001, 2],
    [59_000, 59],
    [0, 1],
  ])("%s ms → %s s", (ms, s) => expect(retryAfterSeconds(ms)).toBe(s));
});

describe("rateLimitHeaders", () => {
  it("emits both trios, and leaves out an unlimited kind", () => {
    expect(
      rateLimitHeaders({ requests: { limit: 60, remaining: 59, resetMs: 1_000 }, tokens: { limit: 150_000, remaining: 149_984, resetMs: 360_000 } }),
    ).toEqual({
      "x-ratelimit-limit-requests": "60",
      "x-ratelimit-remaining-requests": "59",
      "x-ratelimit-reset-requests": "1s",
      "x-ratelimit-limit-tokens": "150000",
      "x-ratelimit-remaining-tokens": "149984",
      "x-ratelimit-reset-tokens": "6m0s",
    });
    expect(rateLimitHeaders({ requests: null, tokens: null })).toEqual({});
  });
});

describe("rejectionError", () => {
  const usage = { requests: { limit: 3, remaining: 0, resetMs: 30_000 }, tokens: null };
  const base: Rejection = { kind: "requests_per_minute", quotaExhausted: false, tooLarge: false, limit: 3, used: 3, requested: 1 };

  it.each<[string, Rejection, number, { type: string; code: string; retryAfter: string; shouldRetry?: string }]>([
    ["requests per minute", base, 20_500, { type: "requests", code: "rate_limit_exceeded", retryAfter: "21" }],
    ["tokens per minute", { ...base, kind: "tokens_per_minute", limit: 100, used: 90, requested: 20 }, 3_000, { type: "tokens", code: "rate_limit_exceeded", retryAfter: "3" }],
    ["concurrency", { ...base, kind: "max_concurrent" }, 1_000, { type: "requests", code: "rate_limit_exceeded", retryAfter: "1" }],
    ["daily quota", { ...base, kind: "tokens_per_day", quotaExhausted: true, limit: 10, used: 10 }, 3_600_000, { type: "insufficient_quota", code: "insufficient_quota", retryAfter: "3600", shouldRetry: "false" }],
    ["too large", { ...base, kind: "tokens_per_minute", tooLarge: true, limit: 10, requested: 11 }, 60_000, { type: "tokens", code: "rate_limit_exceeded", retryAfter: "60", shouldRetry: "false" }],
  ])("%s", (_name, rejection, retryAfterMs, want) => {
    const err = rejectionError({ rejection, retryAfterMs, usage, scope: "key" });
    expect(err.status).toBe(429);
    expect(err.toBody().error).toMatchObject({ type: want.type, code: want.code, param: null });
    expect(err.headers["retry-after"]).toBe(want.retryAfter);
    expect(err.headers["x-should-retry"]).toBe(want.shouldRetry);
    expect(err.headers["x-ratelimit-remaining-requests"]).toBe("0");
  });

  it.each<[string, Rejection, RegExp]>([
    ["daily quota: what is left is the limit minus what was used", { ...base, kind: "tokens_per_day", quotaExhausted: true, limit: 100, used: 70, requested: 40 }, /daily token quota .*: Limit 100, Used 70, Left 30, Requested 40\. The quota resets at 00:00 UTC/],
    ["daily quota with reservations in flight", { ...base, kind: "tokens_per_day", limit: 100, used: 90, reserved: 20, requested: 30 }, /Limit 100, Used 90 \(20 reserved by requests in flight\), Left 10, Requested 30\. Please try again in/],
    ["tokens per minute", { ...base, kind: "tokens_per_minute", limit: 1000, used: 950, requested: 100 }, /Limit 1000, Used 950, Left 50, Requested 100\./],
    ["never a negative amount left", { ...base, kind: "tokens_per_minute", limit: 10, used: 12, requested: 1 }, /Used 12, Left 0, Requested 1/],
    ["requests per minute", base, /Limit 3, Used 3, Requested 1\. Please try again in/],
    ["concurrency", { ...base, kind: "max_concurrent", limit: 2, used: 2 }, /Limit 2, In flight 2\. Please try again when one of them finishes/],
  ])("message figures: %s", (_name, rejection, want) => {
    expect(rejectionError({ rejection, retryAfterMs: 2_000, usage, scope: "key" }).message).toMatch(want);
  });

  it("names the end user scope in the message", () => {
    const err = rejectionError({ rejection: base, retryAfterMs: 1_000, usage, scope: "end_user" });
    expect(err.message).toContain("end user");
    expect(err.message).toContain("Limit 3, Used 3, Requested 1");
  });
});
