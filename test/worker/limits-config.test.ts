import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../../workers/env.js";
import { effectiveLimits, getLimitsConfig, LimitsBody, limitsToBody, patchStoredLimits } from "../../workers/limits/config.js";

describe("limits configuration", () => {
  it("reads the defaults from wrangler vars", () => {
    const c = getLimitsConfig(env);
    expect(c.defaults).toEqual({
      requestsPerMinute: 600,
      tokensPerMinute: 200_000,
      maxConcurrent: 32,
      tokensPerDay: 5_000_000,
      endUser: { requestsPerMinute: 20, tokensPerMinute: 20_000, maxConcurrent: 2, tokensPerDay: 200_000 },
    });
    expect(c.leaseTtlMs).toBe(300_000);
  });

  it('accepts "unlimited" and fails fast, naming the var, on nonsense', () => {
    const unlimited: Env = { ...env, LIMIT_TOKENS_PER_DAY: "unlimited" };
    expect(getLimitsConfig(unlimited).defaults.tokensPerDay).toBeNull();
    const bad: Env = { ...env, END_USER_LIMIT_MAX_CONCURRENT: "-3" };
    expect(() => getLimitsConfig(bad)).toThrow(/END_USER_LIMIT_MAX_CONCURRENT/);
  });

  it("merges a key's stored override field by field (null = unlimited, absent = default)", () => {
    const stored = JSON.stringify({ requests_per_minute: 5, tokens_per_day: null, end_user: { max_concurrent: 1 } });
    expect(effectiveLimits(env, stored)).toEqual({
      requestsPerMinute: 5,
      tokensPerMinute: 200_000,
      maxConcurrent: 32,
      tokensPerDay: null,
      endUser: { requestsPerMinute: 20, tokensPerMinute: 20_000, maxConcurrent: 1, tokensPerDay: 200_000 },
    });
    expect(effectiveLimits(env, null)).toEqual(getLimitsConfig(env).defaults);
  });

  it("refuses a corrupt stored override instead of silently widening it", () => {
    expect(() => effectiveLimits(env, "{not json")).toThrow();
    expect(() => effectiveLimits(env, JSON.stringify({ requests_per_minute: "lots" }))).toThrow();
  });

  it.each<[string, unknown, boolean]>([
    ["full body", { requests_per_minute: 1, tokens_per_minute: 2, max_concurrent: 3, tokens_per_day: 4, end_user: { requests_per_minute: 5 } }, true],
    ["empty", {}, true],
    ["nulls", { tokens_per_day: null, end_user: { max_concurrent: null } }, true],
    ["negative", { requests_per_minute: -1 }, false],
    ["fraction", { tokens_per_minute: 1.5 }, false],
    ["string", { max_concurrent: "3" }, false],
    ["unknown field", { requests_per_hour: 3 }, false],
    ["unknown end-user field", { end_user: { foo: 1 } }, false],
    ["nested end_user", { end_user: { end_user: {} } }, false],
  ])("LimitsBody: %s", (_name, body, ok) => {
    expect(LimitsBody.safeParse(body).success).toBe(ok);
  });

  it("a PATCH merges into the stored override; an empty result stores null", () => {
    const stored = JSON.stringify({ requests_per_minute: 5, end_user: { max_concurrent: 1 } });
    const patched = patchStoredLimits(stored, { tokens_per_day: 10, end_user: { requests_per_minute: 2 } });
    expect(JSON.parse(patched!)).toEqual({ requests_per_minute: 5, tokens_per_day: 10, end_user: { max_concurrent: 1, requests_per_minute: 2 } });
    expect(patchStoredLimits(null, {})).toBeNull();
  });

  it("renders effective limits in the admin API shape", () => {
    expect(limitsToBody(effectiveLimits(env, JSON.stringify({ max_concurrent: null })))).toEqual({
      requests_per_minute: 600,
      tokens_per_minute: 200_000,
      max_concurrent: null,
      tokens_per_day: 5_000_000,
      end_user: { requests_per_minute: 20, tokens_per_minute: 20_000, max_concurrent: 2, tokens_per_day: 200_000 },
    });
  });
});
