import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../../workers/env.js";
import { admitRequest, limiterName } from "../../workers/limits/client.js";
import type { RateLimiter } from "../../workers/limits/rate-limiter-do.js";
import { freshKeyId, keyLimits, limiterStub } from "./limits-helpers.js";

type Method = "admit" | "settle" | "release";

/**
 * A RATE_LIMITER binding whose objects matching `names` throw on the given methods, standing in
 * for a limiter that cannot be reached; everything else goes to the real binding.
 */
function brokenEnv(options: { names: (name: string) => boolean; methods?: Method[] }): Env {
  const real = env.RATE_LIMITER;
  const methods = new Set<Method>(options.methods ?? ["admit", "settle", "release"]);
  const stubFor = (name: string) => {
    const stub = real.get(real.idFromName(name));
    const fail = () => Promise.reject(new Error("Network connection lost."));
    return {
      admit: methods.has("admit") ? fail : (input: Parameters<typeof stub.admit>[0]) => stub.admit(input),
      settle: methods.has("settle") ? fail : (input: Parameters<typeof stub.settle>[0]) => stub.settle(input),
      settleMany: methods.has("settle") ? fail : (inputs: Parameters<typeof stub.settleMany>[0]) => stub.settleMany(inputs),
      release: methods.has("release") ? fail : (input: Parameters<typeof stub.release>[0]) => stub.release(input),
    };
  };
  const namespace = {
    idFromName: (name: string) => ({ name }),
    get: (id: { name: string }) => (options.names(id.name) ? stubFor(id.name) : real.get(real.idFromName(id.name))),
  };
  // The fake implements only what client.ts calls; the cast is confined to this test double.
  return { ...env, RATE_LIMITER: namespace as unknown as DurableObjectNamespace<RateLimiter> };
}

describe("response headers", () => {
  it("are on every admitted request, from the tighter of key and end user", async () => {
    const keyId = freshKeyId("headers-ok");
    const limits = keyLimits({ requestsPerMinute: 60, tokensPerMinute: 150_000 }, { requestsPerMinute: 5, tokensPerMinute: 150_000, tokensPerDay: 1_000 });
    const a = await admitRequest(env, { keyId, endUser: "alice", limits, estimatedTokens: 16, requestId: "r1" });
    if (!a.ok) throw new Error("expected admission");
    expect(a.headers).toEqual({
      "x-ratelimit-limit-requests": "5",
      "x-ratelimit-remaining-requests": "4",
      "x-ratelimit-reset-requests": "1m0s",
      // tokens per day (984 left) is tighter than tokens per minute (149984 left).
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "984",
      "x-ratelimit-reset-tokens": expect.stringMatching(/^(\d+h)?(\d+m)?\d+(\.\d+)?s$/),
    });
  });

  it("a 429 for requests per minute carries Retry-After from the window and the trios", async () => {
    const keyId = freshKeyId("headers-429");
    const limits = keyLimits({ requestsPerMinute: 1, tokensPerMinute: 1_000 });
    const now = Date.now();
    expect((await admitRequest(env, { keyId, limits, estimatedTokens: 10, requestId: "r1", now })).ok).toBe(true);
    const r = await admitRequest(env, { keyId, limits, estimatedTokens: 10, requestId: "r2", now: now + 15_500 });
    if (r.ok) throw new Error("expected refusal");
    expect(r.error.status).toBe(429);
    expect(r.error.toBody()).toEqual({
      error: {
        message: "Rate limit reached for requests per minute (RPM) on this API key: Limit 1, Used 1, Requested 1. Please try again in 44.5s.",
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      },
    });
    expect(r.error.headers).toEqual({
      "retry-after": "45",
      "x-ratelimit-limit-requests": "1",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "44.5s",
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "990",
      "x-ratelimit-reset-tokens": "44.5s",
    });
  });

  it("an exhausted daily quota is insufficient_quota with x-should-retry: false until UTC midnight", async () => {
    const keyId = freshKeyId("headers-quota");
    const limits = keyLimits({ tokensPerDay: 100 });
    const noon = Date.UTC(2030, 5, 1, 12, 0, 0);
    const a = await admitRequest(env, { keyId, limits, estimatedTokens: 100, requestId: "r1", now: noon });
    if (!a.ok) throw new Error("expected admission");
    await a.settle(100);
    const r = await admitRequest(env, { keyId, limits, estimatedTokens: 1, requestId: "r2", now: noon + 1_000 });
    if (r.ok) throw new Error("expected refusal");
    expect(r.error.toBody().error).toMatchObject({ type: "insufficient_quota", code: "insufficient_quota" });
    expect(r.error.headers).toMatchObject({
      "retry-after": String(12 * 3600 - 1),
      "x-should-retry": "false",
      "x-ratelimit-limit-tokens": "100",
      "x-ratelimit-remaining-tokens": "0",
      "x-ratelimit-reset-tokens": "11h59m59s",
    });
  });

  it("a passing rate limit (not quota) lets the SDK retry: no x-should-retry", async () => {
    const keyId = freshKeyId("headers-retry");
    const limits = keyLimits({ maxConcurrent: 1 });
    expect((await admitRequest(env, { keyId, limits, estimatedTokens: 1, requestId: "r1" })).ok).toBe(true);
    const r = await admitRequest(env, { keyId, limits, estimatedTokens: 1, requestId: "r2" });
    if (r.ok) throw new Error("expected refusal");
    expect(r.error.headers["x-should-retry"]).toBeUndefined();
    expect(r.error.headers["retry-after"]).toBe("1");
  });
});

describe("an unreachable limiter fails closed", () => {
  it("answers 503 limiter_unavailable with Retry-After instead of admitting", async () => {
    const keyId = freshKeyId("down");
    const r = await admitRequest(brokenEnv({ names: () => true }), { keyId, limits: keyLimits({ requestsPerMinute: 10 }), estimatedTokens: 1, requestId: "r1" });
    if (r.ok) throw new Error("must not admit without the limiter");
    expect(r.error.status).toBe(503);
    expect(r.error.toBody().error).toMatchObject({ type: "service_unavailable_error", code: "limiter_unavailable" });
    expect(r.error.headers["retry-after"]).toBe("1");
  });

  it("releases the end user's reservation when the key's limiter is down", async () => {
    const keyId = freshKeyId("down-key");
    const limits = keyLimits({ requestsPerMinute: 10 }, { requestsPerMinute: 1 });
    const brokenKey = brokenEnv({ names: (name) => name === limiterName(keyId) });
    const r = await admitRequest(brokenKey, { keyId, endUser: "alice", limits, estimatedTokens: 1, requestId: "r1" });
    expect(r.ok).toBe(false);
    const again = await admitRequest(env, { keyId, endUser: "alice", limits, estimatedTokens: 1, requestId: "r2" });
    expect(again.ok).toBe(true);
  });

  it("a settle that cannot reach the limiter resolves anyway; the lease then expires by itself", async () => {
    const keyId = freshKeyId("down-settle");
    const limits = keyLimits({ maxConcurrent: 1 });
    const settleBroken = brokenEnv({ names: () => true, methods: ["settle"] });
    const a = await admitRequest(settleBroken, { keyId, limits, estimatedTokens: 1, requestId: "r1", leaseTtlMs: 60_000 });
    if (!a.ok) throw new Error("expected admission");
    await expect(a.settle(1)).resolves.toBeUndefined();
    // The slot is still held (the settle never arrived)…
    const now = Date.now();
    expect((await admitRequest(env, { keyId, limits, estimatedTokens: 1, requestId: "r2", now })).ok).toBe(false);
    // …until the lease lapses.
    expect((await admitRequest(env, { keyId, limits, estimatedTokens: 1, requestId: "r3", now: now + 60_001 })).ok).toBe(true);
    // The settle retries for about 11 s before it gives up (workers/limits/settle-batching.ts), so a
    // limiter down for a few seconds leaks no slot; this one is down for good.
  }, 30_000);

  it("skips the round trip entirely for an all-unlimited scope (nothing to enforce)", async () => {
    const r = await admitRequest(brokenEnv({ names: () => true }), { keyId: freshKeyId("unlimited"), limits: keyLimits({}), estimatedTokens: 1, requestId: "r1" });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.headers).toEqual({});
  });
});
