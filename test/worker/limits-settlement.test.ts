import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admitRequest, type Admission } from "../../workers/limits/client.js";
import { SWEEP_EVERY_ROWS } from "../../workers/limits/ledger.js";
import { freshKeyId, keyLimits, LEASE_TTL_MS, limiterStub, UNLIMITED } from "./limits-helpers.js";

function expectOk(a: Admission): Extract<Admission, { ok: true }> {
  if (!a.ok) throw new Error(`expected admission, got ${a.error.status} ${a.error.message}`);
  return a;
}

/** Remaining tokens this key's limiter reports, read through a zero-token admission's headers. */
async function remainingTokens(keyId: string, limits: ReturnType<typeof keyLimits>): Promise<number> {
  const probe = expectOk(await admitRequest(env, { keyId, limits, estimatedTokens: 0, requestId: "probe" }));
  await probe.settle(0);
  return Number(probe.headers["x-ratelimit-remaining-tokens"]);
}

describe("settlement replaces the reservation with real usage", () => {
  const limits = keyLimits({ tokensPerMinute: 1_000 });

  it.each([
    ["completion", 300, 300],
    ["cancellation (partial tokens)", 300, 42],
    ["failure (nothing generated)", 300, 0],
    ["failover (sum over both workers, above the estimate)", 300, 450],
  ])("on %s", async (_name, estimate, actual) => {
    const keyId = freshKeyId("settle");
    const a = expectOk(await admitRequest(env, { keyId, limits, estimatedTokens: estimate, requestId: "r1" }));
    expect(a.headers["x-ratelimit-remaining-tokens"]).toBe(String(1_000 - estimate));
    await a.settle(actual);
    expect(await remainingTokens(keyId, limits)).toBe(1_000 - actual);
  });

  it("is idempotent: a second settle (even with other numbers) changes nothing", async () => {
    const keyId = freshKeyId("settle-twice");
    const a = expectOk(await admitRequest(env, { keyId, limits, estimatedTokens: 300, requestId: "r1" }));
    await a.settle(100);
    await a.settle(0);
    const stub = limiterStub(keyId);
    const again = await stub.settle({ leaseId: "not-a-lease", actualTokens: 0 });
    expect(again.settled).toBe(false);
    expect(await remainingTokens(keyId, limits)).toBe(900);
  });

  it("a failed request still counts as a request per minute", async () => {
    const keyId = freshKeyId("settle-rpm");
    const rpm = keyLimits({ requestsPerMinute: 1 });
    const a = expectOk(await admitRequest(env, { keyId, limits: rpm, estimatedTokens: 10, requestId: "r1" }));
    await a.settle(0);
    const b = await admitRequest(env, { keyId, limits: rpm, estimatedTokens: 10, requestId: "r2" });
    expect(b.ok).toBe(false);
  });

  it("frees the concurrency slot", async () => {
    const keyId = freshKeyId("settle-slot");
    const one = keyLimits({ maxConcurrent: 1 });
    const a = expectOk(await admitRequest(env, { keyId, limits: one, estimatedTokens: 10, requestId: "r1" }));
    expect((await admitRequest(env, { keyId, limits: one, estimatedTokens: 10, requestId: "r2" })).ok).toBe(false);
    await a.settle(5);
    expect((await admitRequest(env, { keyId, limits: one, estimatedTokens: 10, requestId: "r3" })).ok).toBe(true);
  });
});

describe("lease expiry", () => {
  it("the alarm releases a crashed request's slot and keeps its estimate charged", async () => {
    const keyId = freshKeyId("expiry");
    const stub = limiterStub(keyId);
    const limits = { ...UNLIMITED, maxConcurrent: 1, tokensPerMinute: 1_000 };
    const first = await stub.admit({ requestId: "crashed", estimatedTokens: 400, limits, leaseTtlMs: 1 });
    expect(first.ok).toBe(true);
    // The alarm may already have fired on its own (1 ms lease); either way it must have run by now.
    await runDurableObjectAlarm(stub);
    const rows = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec("SELECT state, tokens FROM reservation").toArray(),
    );
    expect(rows).toEqual([{ state: "expired", tokens: 400 }]);
    const next = await stub.admit({ requestId: "next", estimatedTokens: 600, limits, leaseTtlMs: LEASE_TTL_MS });
    expect(next.ok).toBe(true);
    // A late settle of the expired lease changes nothing.
    if (first.ok) expect((await stub.settle({ leaseId: first.leaseId, actualTokens: 0 })).settled).toBe(false);
  });

  it("admission arms an alarm at the lease's expiry", async () => {
    const stub = limiterStub(freshKeyId("alarm"));
    const now = Date.now();
    await stub.admit({ requestId: "r", estimatedTokens: 1, limits: { ...UNLIMITED, maxConcurrent: 5 }, leaseTtlMs: LEASE_TTL_MS, now });
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).toBe(now + LEASE_TTL_MS);
  });

  it("an admission is stored before it is answered: a restart right after keeps the slot taken", async () => {
    const keyId = freshKeyId("admit-durable");
    const one = keyLimits({ maxConcurrent: 1 });
    // Several at once, as admissions share one commit when they arrive together.
    const first = await Promise.all([1, 2, 3].map((i) => admitRequest(env, { keyId, limits: one, estimatedTokens: 1, requestId: `r${i}` })));
    expect(first.filter((a) => a.ok)).toHaveLength(1);
    await abortAllDurableObjects();
    expect((await admitRequest(env, { keyId, limits: one, estimatedTokens: 1, requestId: "after" })).ok).toBe(false);
  });

  it("quota survives the object being evicted (state is in SQLite, not just memory)", async () => {
    const keyId = freshKeyId("evict");
    const limits = keyLimits({ requestsPerMinute: 2, tokensPerDay: 1_000 });
    const a = expectOk(await admitRequest(env, { keyId, limits, estimatedTokens: 700, requestId: "r1" }));
    await a.settle(600);
    await abortAllDurableObjects();
    const b = await admitRequest(env, { keyId, limits, estimatedTokens: 500, requestId: "r2" });
    expect(b.ok).toBe(false);
    if (!b.ok) expect(b.error.code).toBe("insufficient_quota");
    const c = expectOk(await admitRequest(env, { keyId, limits, estimatedTokens: 400, requestId: "r3" }));
    expect(c.headers["x-ratelimit-remaining-requests"]).toBe("0");
    expect(c.headers["x-ratelimit-remaining-tokens"]).toBe("0");
  });
});

describe("rows out of the window leave storage in sweeps", () => {
  const storedRows = (keyId: string) =>
    runInDurableObject(limiterStub(keyId), (_i, state) => Number(state.storage.sql.exec("SELECT COUNT(*) AS n FROM reservation").one().n));

  // Settlements run on the object's own clock, a little after `now`: a second of slack keeps
  // the first batch's rows clear of the window's edge.
  async function admitAndSettle(keyId: string, limits: ReturnType<typeof keyLimits>, count: number, now: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const a = expectOk(await admitRequest(env, { keyId, limits, estimatedTokens: 1, requestId: `r${i}`, now }));
      await a.settle(1);
    }
  }

  it("a sweep deletes every row that left the window once enough have", async () => {
    const keyId = freshKeyId("sweep");
    const limits = keyLimits({ requestsPerMinute: 1_000 });
    const now = Date.now();
    await admitAndSettle(keyId, limits, SWEEP_EVERY_ROWS, now);
    expect(await storedRows(keyId)).toBe(SWEEP_EVERY_ROWS);
    await admitAndSettle(keyId, limits, 1, now + 61_000);
    expect(await storedRows(keyId)).toBe(1);
  });

  it("rows pruned but not yet swept do not count after a restart", async () => {
    const keyId = freshKeyId("unswept");
    const limits = keyLimits({ requestsPerMinute: 10 });
    const now = Date.now();
    await admitAndSettle(keyId, limits, 10, now);
    await admitAndSettle(keyId, limits, 1, now + 61_000);
    expect(await storedRows(keyId)).toBe(11);
    await abortAllDurableObjects();
    const again = expectOk(await admitRequest(env, { keyId, limits, estimatedTokens: 1, requestId: "after", now: now + 61_001 }));
    expect(again.headers["x-ratelimit-remaining-requests"]).toBe("8");
  });
});

describe("rejected requests consume nothing", () => {
  it("many rejections leave the allowance exactly as it was", async () => {
    const keyId = freshKeyId("rejected");
    const limits = keyLimits({ tokensPerMinute: 100, requestsPerMinute: 3, tokensPerDay: 1_000 });
    expectOk(await admitRequest(env, { keyId, limits, estimatedTokens: 60, requestId: "r1" }));
    for (let i = 0; i < 10; i++) {
      expect((await admitRequest(env, { keyId, limits, estimatedTokens: 50, requestId: `x${i}` })).ok).toBe(false);
    }
    const b = expectOk(await admitRequest(env, { keyId, limits, estimatedTokens: 40, requestId: "r2" }));
    expect(b.headers["x-ratelimit-remaining-requests"]).toBe("1");
    expect(b.headers["x-ratelimit-remaining-tokens"]).toBe("0");
  });
});
