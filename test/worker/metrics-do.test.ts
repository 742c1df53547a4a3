/** The GatewayMetrics Durable Object: sums flushes, and what a scraper has seen survives a restart. */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { GatewayMetrics } from "../../workers/metrics/metrics-do.js";
import { addGenerationInto, addRefusalInto, emptyTotals, type Totals } from "../../workers/metrics/totals.js";

let seq = 0;
function freshMetrics(): DurableObjectStub<GatewayMetrics> {
  return env.METRICS.get(env.METRICS.idFromName(`metrics-test-${++seq}-${Date.now()}`));
}

function delta(completes: number): Totals {
  const totals = emptyTotals();
  for (let i = 0; i < completes; i++) {
    addGenerationInto(totals, "m", { status: "complete", failovers: 0, promptTokens: 10, completionTokens: 4, timeToFirstTokenMs: 120 });
  }
  addRefusalInto(totals, "overloaded");
  return totals;
}

/** Totals as a new instance over the same storage reads them, as after an eviction or deploy. */
async function afterRestart(stub: DurableObjectStub<GatewayMetrics>): Promise<Totals> {
  return runInDurableObject(stub, async (_instance, state) => {
    const fresh = new GatewayMetrics(state, env);
    await state.blockConcurrencyWhile(async () => {});
    return fresh.read();
  });
}

describe("GatewayMetrics", () => {
  it("sums the flushes of many isolates, and a read adds the reader's own buffer", async () => {
    const stub = freshMetrics();
    await stub.add(delta(2));
    await stub.add(delta(3));
    const totals = await stub.read(delta(1));
    expect(totals.models.m?.requests.complete).toBe(6);
    expect(totals.models.m?.generatedTokens).toBe(24);
    expect(totals.refused.overloaded).toBe(3);
    expect(totals.models.m?.ttft.buckets.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it("keeps every value a scrape returned across a restart", async () => {
    const stub = freshMetrics();
    await stub.add(delta(4));
    const seen = await stub.read();
    expect(await afterRestart(stub)).toEqual(seen);
  });

  it("writes unscraped flushes to storage when its alarm fires", async () => {
    const stub = freshMetrics();
    await stub.add(delta(5));
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).not.toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await afterRestart(stub)).models.m?.requests.complete).toBe(5);
  });

  it("drops a malformed flush and keeps its totals", async () => {
    const stub = freshMetrics();
    expect(await stub.add(delta(1))).toBe(true);
    const bad = delta(1);
    bad.models.m!.requests.complete = -5;
    expect(await stub.add(bad)).toBe(false);
    expect((await stub.read()).models.m?.requests.complete).toBe(1);
  });
});
