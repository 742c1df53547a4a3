/**
 * The dashboard's history inside workerd against real D1 and the real metrics Durable Object:
 * flushes are filed per minute, a closed minute is written to D1 once and forgotten by the
 * object, rows past the retention are pruned, open minutes survive a restart, and
 * GET /admin/dashboard/history sums D1's minutes with the object's pending ones.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { DashboardHistory } from "../../wire/dashboard.js";
import { readMinutes, writeMinutes } from "../../workers/db/metrics-minutes-store.js";
import { GatewayMetrics, metricsStub } from "../../workers/metrics/metrics-do.js";
import { MINUTE_MS, minuteStart } from "../../workers/metrics/minute-history.js";
import { addGenerationInto, addRefusalInto, emptyTotals, type Totals } from "../../workers/metrics/totals.js";
import { call, expectOpenAIError, seedKey } from "./helpers.js";

const DAY_MS = 86_400_000;

let seq = 0;
function freshMetrics(): DurableObjectStub<GatewayMetrics> {
  return env.METRICS.get(env.METRICS.idFromName(`history-test-${++seq}-${Date.now()}`));
}

function delta(completes: number, model = "m"): Totals {
  const totals = emptyTotals();
  for (let i = 0; i < completes; i++) {
    addGenerationInto(totals, model, { status: "complete", failovers: 1, promptTokens: 10, completionTokens: 4, timeToFirstTokenMs: 80 });
  }
  addRefusalInto(totals, "rate_limit_exceeded");
  return totals;
}

async function storedMinute(start: number): Promise<Totals | undefined> {
  return (await readMinutes(env.DB, { from: start, to: start + 1 }))[0]?.totals;
}

async function history(range: string): Promise<DashboardHistory> {
  const res = await call("GET", `/admin/dashboard/history?range=${range}`);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return DashboardHistory.strict().parse(JSON.parse(text));
}

describe("the metrics object's per-minute history", () => {
  it("files flushes under the minute they arrive in, and writes a closed minute to D1 once", async () => {
    const stub = freshMetrics();
    const before = Date.now();
    await stub.add(delta(2));
    await stub.add(delta(3));
    const pending = await stub.pendingMinutes();
    expect(pending).toHaveLength(1);
    const minute = pending[0]!.start;
    expect(minute).toBeGreaterThanOrEqual(minuteStart(before));
    expect(pending[0]!.totals.models.m?.requests.complete).toBe(5);

    // Still open: nothing is written.
    expect(await stub.writeHistory(minute + MINUTE_MS - 1)).toBe(true);
    expect(await storedMinute(minute)).toBeUndefined();
    expect(await stub.pendingMinutes()).toHaveLength(1);

    // Closed: written, and the object forgets it.
    expect(await stub.writeHistory(minute + MINUTE_MS + 5_000)).toBe(true);
    const stored = await storedMinute(minute);
    expect(stored?.models.m?.requests.complete).toBe(5);
    expect(stored?.models.m?.failovers).toBe(5);
    expect(stored?.refused.rate_limit_exceeded).toBe(2);
    expect(await stub.pendingMinutes()).toEqual([]);
  });

  it("prunes minutes older than DASHBOARD_HISTORY_RETENTION_DAYS (7 by default) when it writes", async () => {
    const now = Date.now();
    const old = minuteStart(now - 7 * DAY_MS - 5 * MINUTE_MS);
    const kept = minuteStart(now - 6 * DAY_MS);
    await writeMinutes(env.DB, { minutes: [{ start: old, totals: delta(1) }, { start: kept, totals: delta(1) }], deleteBefore: 0 });
    expect(await storedMinute(old)).toBeDefined();

    const stub = freshMetrics();
    await stub.add(delta(1));
    const [open] = await stub.pendingMinutes();
    expect(await stub.writeHistory(open!.start + 2 * MINUTE_MS + 5_000)).toBe(true);
    expect(await storedMinute(old)).toBeUndefined();
    expect(await storedMinute(kept)).toBeDefined();
    expect(await storedMinute(open!.start)).toBeDefined();
  });

  it("its alarm writes a minute to D1 once the minute has closed", async () => {
    const stub = freshMetrics();
    // The object runs in this isolate: a fake clock files the flush three minutes ago.
    const flushedAt = minuteStart(Date.now()) - 3 * MINUTE_MS + 1_000;
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(flushedAt);
      await stub.add(delta(6, "alarm-model"));
    } finally {
      vi.useRealTimers();
    }
    // The alarm was set for a time already past, so workerd may have run it by now; if not, run it.
    await runDurableObjectAlarm(stub);
    await vi.waitFor(async () => expect((await storedMinute(minuteStart(flushedAt)))?.models["alarm-model"]?.requests.complete).toBe(6), { timeout: 5_000 });
    expect(await stub.pendingMinutes()).toEqual([]);
  });

  it("keeps minutes not yet in D1 across a restart", async () => {
    const stub = freshMetrics();
    await stub.add(delta(4));
    await stub.read(); // a read persists, as the alarm does
    const before = await stub.pendingMinutes();
    const afterRestart = await runInDurableObject(stub, async (_instance, state) => {
      const fresh = new GatewayMetrics(state, env);
      await state.blockConcurrencyWhile(async () => {});
      return fresh.pendingMinutes();
    });
    expect(afterRestart).toEqual(before);
    expect(afterRestart.reduce((sum, m) => sum + (m.totals.models.m?.requests.complete ?? 0), 0)).toBe(4);
  });
});

describe("GET /admin/dashboard/history", () => {
  it("hour: 60 minute buckets with D1's stored minutes and the metrics object's open one", async () => {
    const now = Date.now();
    const tenMinutesAgo = minuteStart(now) - 10 * MINUTE_MS;
    await writeMinutes(env.DB, { minutes: [{ start: tenMinutesAgo, totals: delta(7, "stored-model") }], deleteBefore: 0 });
    await metricsStub(env).add(delta(3, "live-model"));

    const body = await history("hour");
    expect(body).toMatchObject({ object: "dashboard.history", range: "hour", bucket_seconds: 60, retention_days: 7 });
    expect(body.buckets).toHaveLength(60);
    expect(body.end - body.start).toBe(3600);
    const storedBucket = body.buckets.find((b) => b.start === tenMinutesAgo / 1000);
    expect(storedBucket?.requests.complete).toBe(7);
    expect(storedBucket?.prompt_tokens).toBe(70);
    expect(storedBucket?.completion_tokens).toBe(28);
    expect(storedBucket?.failovers).toBe(7);
    expect(storedBucket?.refused.rate_limit_exceeded).toBe(1);
    // 80 ms first tokens: in the (50, 100] ms bucket.
    expect(storedBucket?.ttft_ms.count).toBe(7);
    expect(storedBucket?.ttft_ms.p50).toBeGreaterThan(50);
    expect(storedBucket?.ttft_ms.p50).toBeLessThanOrEqual(100);
    // The live flush is in the last bucket (or the one before, had the minute just turned).
    const recent = body.buckets.slice(-2).reduce((sum, b) => sum + b.requests.complete, 0);
    expect(recent).toBeGreaterThanOrEqual(3);
    expect(body.models).toEqual(expect.arrayContaining(["stored-model", "live-model"]));
  });

  it("day: 288 five-minute buckets", async () => {
    const body = await history("day");
    expect(body.bucket_seconds).toBe(300);
    expect(body.buckets).toHaveLength(288);
    expect(body.end - body.start).toBe(86_400);
  });

  it("refuses an unknown range with a 400 and a non-admin key with a 403", async () => {
    const error = await expectOpenAIError(await call("GET", "/admin/dashboard/history?range=week"), 400, "invalid_value");
    expect(error.param).toBe("range");
    const { key } = await seedKey("user");
    await expectOpenAIError(await call("GET", "/admin/dashboard/history", { key }), 403, "forbidden");
    await expectOpenAIError(await call("GET", "/admin/dashboard/summary", { key }), 403, "forbidden");
  });
});
