import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admitRequest } from "../../workers/limits/client.js";
import { freshKeyId, keyLimits, LEASE_TTL_MS, limiterStub, UNLIMITED } from "./limits-helpers.js";

async function fire(keyId: string, limits: ReturnType<typeof keyLimits>, user: string, count: number) {
  return Promise.all(
    Array.from({ length: count }, (_, i) => admitRequest(env, { keyId, endUser: user, limits, estimatedTokens: 10, requestId: `${user}-${i}` })),
  );
}

describe("end-user limits", () => {
  it("are independent per user", async () => {
    const keyId = freshKeyId("eu-independent");
    const limits = keyLimits({}, { requestsPerMinute: 2 });
    const [a, b] = await Promise.all([fire(keyId, limits, "alice", 10), fire(keyId, limits, "bob", 10)]);
    expect(a.filter((x) => x.ok)).toHaveLength(2);
    expect(b.filter((x) => x.ok)).toHaveLength(2);
    const rejected = a.find((x) => !x.ok);
    if (rejected && !rejected.ok) {
      expect(rejected.error.status).toBe(429);
      expect(rejected.error.message).toContain("end user");
    }
  });

  it("the key limit still binds across users, exactly, under 100 simultaneous requests", async () => {
    const keyId = freshKeyId("eu-key-binds");
    const limits = keyLimits({ requestsPerMinute: 7 }, { requestsPerMinute: 3 });
    const users = Array.from({ length: 10 }, (_, i) => `user${i}`);
    const perUser = await Promise.all(users.map((u) => fire(keyId, limits, u, 10)));
    const admittedPerUser = perUser.map((rs) => rs.filter((r) => r.ok).length);
    expect(admittedPerUser.reduce((s, n) => s + n, 0)).toBe(7);
    for (const n of admittedPerUser) expect(n).toBeLessThanOrEqual(3);
    // A user who sent nothing yet is still refused: the key is full.
    const late = await admitRequest(env, { keyId, endUser: "newcomer", limits, estimatedTokens: 1, requestId: "late" });
    expect(late.ok).toBe(false);
    if (!late.ok) expect(late.error.message).toContain("this API key");
  });

  it("a key refusal releases the end user's reservation (nothing leaks)", async () => {
    const keyId = freshKeyId("eu-release");
    const limits = keyLimits({ tokensPerMinute: 100 }, { tokensPerMinute: 100, maxConcurrent: 1, requestsPerMinute: 1 });
    const first = await admitRequest(env, { keyId, endUser: "alice", limits, estimatedTokens: 90, requestId: "a1" });
    expect(first.ok).toBe(true);
    const refused = await admitRequest(env, { keyId, endUser: "bob", limits, estimatedTokens: 50, requestId: "b1" });
    expect(refused.ok).toBe(false);
    // Bob's own limiter holds nothing: his full allowance (1 request, 1 slot, 100 tokens) is intact.
    const bob = limiterStub(keyId, "bob");
    const direct = await bob.admit({ requestId: "check", estimatedTokens: 100, limits: limits.endUser, leaseTtlMs: LEASE_TTL_MS });
    expect(direct.ok).toBe(true);
  });

  it("a user refusal never touches the key's allowance", async () => {
    const keyId = freshKeyId("eu-no-key-touch");
    const limits = keyLimits({ requestsPerMinute: 2 }, { requestsPerMinute: 1 });
    expect((await admitRequest(env, { keyId, endUser: "alice", limits, estimatedTokens: 1, requestId: "a1" })).ok).toBe(true);
    for (let i = 0; i < 5; i++) {
      expect((await admitRequest(env, { keyId, endUser: "alice", limits, estimatedTokens: 1, requestId: `a${i + 2}` })).ok).toBe(false);
    }
    expect((await admitRequest(env, { keyId, endUser: "bob", limits, estimatedTokens: 1, requestId: "b1" })).ok).toBe(true);
  });

  it("settle reaches both limiters", async () => {
    const keyId = freshKeyId("eu-settle");
    const limits = keyLimits({ maxConcurrent: 1 }, { maxConcurrent: 1 });
    const a = await admitRequest(env, { keyId, endUser: "alice", limits, estimatedTokens: 1, requestId: "a1" });
    if (!a.ok) throw new Error("expected admission");
    await a.settle(1);
    const keyDirect = await limiterStub(keyId).admit({ requestId: "k", estimatedTokens: 1, limits: { ...UNLIMITED, maxConcurrent: 1 }, leaseTtlMs: LEASE_TTL_MS });
    const userDirect = await limiterStub(keyId, "alice").admit({ requestId: "u", estimatedTokens: 1, limits: limits.endUser, leaseTtlMs: LEASE_TTL_MS });
    expect([keyDirect.ok, userDirect.ok]).toEqual([true, true]);
  });
});
