/**
 * The usage of stateless completions is buffered in the key's limiter and written to the D1
 * ledger in batches. Nothing may be lost or counted twice: not on an object restart, not when a
 * write to D1 fails, not when a batch whose answer was lost is sent again.
 */
import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { applyUsageBatch } from "../../workers/db/usage-batches.js";
import { admitRequest } from "../../workers/limits/client.js";
import type { UsageEntry } from "../../workers/limits/types.js";
import { UsageBuffer } from "../../workers/limits/usage-buffer.js";
import { freshKeyId, keyLimits, limiterStub } from "./limits-helpers.js";

const DAY = new Date().toISOString().slice(0, 10);

/** The limiter's private parts these tests reach into: its env and when its buffer is due. */
interface LimiterInternals {
  env: typeof env;
  usageDueAtMs: number | null;
  alarm(): Promise<void>;
}
const internals = (instance: unknown): LimiterInternals => instance as LimiterInternals;

function entry(keyId: string, over: Partial<UsageEntry> = {}): UsageEntry {
  return { keyId, endUser: "", model: "vicuna-13b-v1.5", day: DAY, promptTokens: 10, completionTokens: 5, failed: false, ...over };
}

interface LedgerRow {
  end_user: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  failures: number;
}

async function ledger(keyId: string): Promise<LedgerRow[]> {
  const rows = await env.DB.prepare(
    "SELECT end_user, requests, prompt_tokens, completion_tokens, failures FROM usage_daily WHERE key_id = ? ORDER BY end_user",
  )
    .bind(keyId)
    .all<LedgerRow>();
  return rows.results;
}

/** Admits and settles one request of `keyId` with its usage entry, as a stateless completion does. */
async function settleWithUsage(keyId: string, usage: UsageEntry, limits = keyLimits({ requestsPerMinute: 1_000 })): Promise<void> {
  const a = await admitRequest(env, { keyId, limits, estimatedTokens: 100, requestId: crypto.randomUUID() });
  if (!a.ok) throw new Error("expected admission");
  await a.settle(usage.promptTokens + usage.completionTokens, usage);
}

describe("usage buffered in the key's limiter", () => {
  it("sums requests per end user, model and day, and reaches D1 only when flushed", async () => {
    const keyId = freshKeyId("usage-sum");
    await settleWithUsage(keyId, entry(keyId));
    await settleWithUsage(keyId, entry(keyId, { promptTokens: 7, completionTokens: 0, failed: true }));
    await settleWithUsage(keyId, entry(keyId, { endUser: "alice" }));
    expect(await ledger(keyId)).toEqual([]);
    await limiterStub(keyId).flushUsage();
    expect(await ledger(keyId)).toEqual([
      { end_user: "", requests: 2, prompt_tokens: 17, completion_tokens: 5, failures: 1 },
      { end_user: "alice", requests: 1, prompt_tokens: 10, completion_tokens: 5, failures: 0 },
    ]);
    await limiterStub(keyId).flushUsage();
    expect((await ledger(keyId))[0]?.requests).toBe(2);
  });

  it("a settlement repeated for the same lease buffers its usage once", async () => {
    const keyId = freshKeyId("usage-once");
    const a = await admitRequest(env, { keyId, limits: keyLimits({ maxConcurrent: 5 }), estimatedTokens: 100, requestId: "r1" });
    if (!a.ok) throw new Error("expected admission");
    await a.settle(15, entry(keyId));
    const stub = limiterStub(keyId);
    // A settle arriving again (a retry after a lost answer) finds the lease settled.
    const lease = await runInDurableObject(stub, (_instance, state) =>
      String(state.storage.sql.exec<{ lease_id: string }>("SELECT lease_id FROM reservation LIMIT 1").one().lease_id),
    );
    expect((await stub.settle({ leaseId: lease, actualTokens: 15, usage: entry(keyId) })).settled).toBe(false);
    await stub.flushUsage();
    expect((await ledger(keyId))[0]?.requests).toBe(1);
  });

  it("an unlimited key, never admitted by its limiter, still has its usage recorded there", async () => {
    const keyId = freshKeyId("usage-unlimited");
    const a = await admitRequest(env, { keyId, limits: keyLimits({}), estimatedTokens: 100, requestId: "r1" });
    if (!a.ok) throw new Error("expected admission");
    await a.settle(15, entry(keyId));
    await limiterStub(keyId).flushUsage();
    expect(await ledger(keyId)).toEqual([{ end_user: "", requests: 1, prompt_tokens: 10, completion_tokens: 5, failures: 0 }]);
  });

  it("survives an object restart: the alarm of the restarted object writes it", async () => {
    const keyId = freshKeyId("usage-restart");
    await settleWithUsage(keyId, entry(keyId));
    await abortAllDurableObjects();
    expect(await ledger(keyId)).toEqual([]);
    expect(await runDurableObjectAlarm(limiterStub(keyId))).toBe(true);
    expect(await ledger(keyId)).toEqual([{ end_user: "", requests: 1, prompt_tokens: 10, completion_tokens: 5, failures: 0 }]);
  });

  it("is written by the alarm once due, with no read asking for it", async () => {
    const keyId = freshKeyId("usage-alarm");
    await settleWithUsage(keyId, entry(keyId));
    const stub = limiterStub(keyId);
    // Make the buffer due now (the interval is the deployment's USAGE_FLUSH_INTERVAL_MS).
    await runInDurableObject(stub, (instance) => {
      internals(instance).usageDueAtMs = Date.now();
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await ledger(keyId))[0]?.requests).toBe(1);
  });

  it("keeps the usage when D1 fails, and sends the same batch again later", async () => {
    const keyId = freshKeyId("usage-d1-down");
    await settleWithUsage(keyId, entry(keyId));
    const stub = limiterStub(keyId);
    await runInDurableObject(stub, async (instance) => {
      const own = internals(instance);
      const realEnv = own.env;
      const downDb = { prepare: realEnv.DB.prepare.bind(realEnv.DB), batch: () => Promise.reject(new Error("D1 is down")) };
      own.env = { ...realEnv, DB: downDb as unknown as D1Database };
      own.usageDueAtMs = Date.now();
      await own.alarm();
      own.env = realEnv;
    });
    expect(await ledger(keyId)).toEqual([]);
    await stub.flushUsage();
    expect((await ledger(keyId))[0]?.requests).toBe(1);
  });

  it("a batch D1 applied whose answer was lost counts once when sent again", async () => {
    const keyId = freshKeyId("usage-lost-answer");
    await settleWithUsage(keyId, entry(keyId));
    const stub = limiterStub(keyId);
    await runInDurableObject(stub, async (_instance, state) => {
      // Seal the batch and apply it without confirming, as if the object died before hearing back.
      const batch = new UsageBuffer(state.storage.sql).nextBatch(crypto.randomUUID());
      if (!batch) throw new Error("expected a buffered batch");
      await applyUsageBatch(env.DB, { ...batch, now: Date.now() });
    });
    await abortAllDurableObjects();
    // A stub from before the restart is broken with the object; the restarted one needs a new stub.
    await limiterStub(keyId).flushUsage();
    expect(await ledger(keyId)).toEqual([{ end_user: "", requests: 1, prompt_tokens: 10, completion_tokens: 5, failures: 0 }]);
  });
});
