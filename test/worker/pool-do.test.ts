import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { Heartbeat } from "../../wire/heartbeat.js";
import { GpuPool } from "../../workers/pool/pool-do.js";
import { IsolateSnapshotCache } from "../../workers/pool/snapshot-cache.js";
import { waitFor } from "../support/wait.js";

let poolCounter = 0;
/** A fresh pool object per test: tests never see each other's workers. */
function freshPool() {
  return env.POOL.get(env.POOL.idFromName(`pool-do-test-${poolCounter++}-${crypto.randomUUID()}`));
}

function beat(workerId: string, overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    workerId,
    url: `https://${workerId}.gpu.example.com`,
    models: [{ id: "vicuna-13b-v1.5", maxModelLen: 4096 }],
    state: "ready",
    healthy: true,
    load: { running: 3, waiting: 0, kvCacheUsage: 0.2, prefixCacheHitRate: 0.4, tokensPerSecond: 55 },
    ...overrides,
  };
}

// Times are driven through the RPC methods' `at` argument, close to the real clock so the
// object's real alarm (which prunes with the real clock) never interferes.
let T0 = Date.now();
beforeEach(() => {
  T0 = Date.now();
});

describe("GpuPool durable object", () => {
  it("joins a worker, then expires it after three missed intervals", async () => {
    const stub = freshPool();
    expect(await stub.heartbeat(beat("a"), T0)).toEqual({ state: "ready", heartbeatIntervalMs: 1_000 });
    const stateAt = async (at: number) => (await stub.snapshot(at)).workers.map((w) => [w.id, w.state]);
    expect(await stateAt(T0 + 1_000)).toEqual([["a", "ready"]]);
    expect(await stateAt(T0 + 2_001)).toEqual([["a", "unhealthy"]]);
    expect(await stateAt(T0 + 3_001)).toEqual([["a", "gone"]]);
    // A heartbeat brings it back.
    await stub.heartbeat(beat("a"), T0 + 5_000);
    expect(await stateAt(T0 + 5_000)).toEqual([["a", "ready"]]);
  });

  it("reports load, models and the replica recommendation in the snapshot", async () => {
    const stub = freshPool();
    await stub.heartbeat(beat("a", { load: { running: 20, waiting: 10, kvCacheUsage: 0.5, prefixCacheHitRate: 0, tokensPerSecond: 1 } }), T0);
    const snapshot = await stub.snapshot(T0);
    expect(snapshot.workers[0]).toMatchObject({
      id: "a",
      url: "https://a.gpu.example.com",
      models: [{ id: "vicuna-13b-v1.5", maxModelLen: 4096 }],
      load: { running: 20, waiting: 10 },
      lastHeartbeatAt: T0,
      consecutiveFailures: 0,
    });
    expect(snapshot.replicas).toEqual([
      { model: "vicuna-13b-v1.5", readyWorkers: 1, liveWorkers: 1, running: 20, waiting: 10, kvCacheUsage: 0.5, desiredReplicas: 2 },
    ]);
  });

  it("drain, cordon and uncordon change the state the agent is told; unknown workers are null", async () => {
    const stub = freshPool();
    await stub.heartbeat(beat("a"), T0);
    expect((await stub.cordon("a", T0))?.state).toBe("cordoned");
    expect((await stub.heartbeat(beat("a"), T0 + 1_000)).state).toBe("cordoned");
    expect((await stub.drain("a", T0 + 1_000))?.state).toBe("draining");
    expect((await stub.uncordon("a", T0 + 1_000))?.state).toBe("ready");
    expect(await stub.drain("nope")).toBeNull();
    expect(await stub.remove("a")).toBe(true);
    expect(await stub.remove("a")).toBe(false);
    expect((await stub.snapshot(T0)).workers).toEqual([]);
  });

  it("opens the circuit breaker after three failures and a success closes it", async () => {
    const stub = freshPool();
    await stub.heartbeat(beat("a"), T0);
    await stub.reportFailure("a", T0 + 1);
    await stub.reportFailure("a", T0 + 2);
    expect(await stub.reportFailure("a", T0 + 3)).toEqual({ consecutiveFailures: 3, cooldownUntil: T0 + 3 + 10_000 });
    expect((await stub.snapshot(T0 + 4)).workers[0]?.cooldownUntil).toBe(T0 + 10_003);
    expect(await stub.reportSuccess("a", T0 + 20_000)).toEqual({ consecutiveFailures: 0, cooldownUntil: 0 });
    expect(await stub.reportFailure("ghost", T0)).toBeNull();
  });

  it("keeps membership in SQLite storage across a restart of the object", async () => {
    const stub = freshPool();
    const now = Date.now();
    await stub.heartbeat(beat("a"), now);
    await stub.cordon("a", now);
    const reloaded = await runInDurableObject(stub, async (_instance, state) => {
      // A new instance over the same storage, as after an eviction or deploy.
      const fresh = new GpuPool(state, env);
      await state.blockConcurrencyWhile(async () => {});
      return fresh.snapshot(now + 500);
    });
    expect(reloaded.workers.map((w) => [w.id, w.state, w.adminState])).toEqual([["a", "cordoned", "cordoned"]]);
  });

  it("keeps each worker's runtime across a restart; a record stored without one reads back without one", async () => {
    const stub = freshPool();
    const now = Date.now();
    await stub.heartbeat(beat("gpu", { runtime: { kind: "vllm", version: "0.18.1" } }), now);
    await stub.heartbeat(beat("sim", { runtime: { kind: "simulator", version: "altiplano-vllm-simulator-0.1.0" } }), now);
    await stub.heartbeat(beat("old"), now);
    const reloaded = await runInDurableObject(stub, async (_instance, state) => {
      const fresh = new GpuPool(state, env);
      await state.blockConcurrencyWhile(async () => {});
      return fresh.snapshot(now + 500);
    });
    expect(reloaded.workers.map((w) => [w.id, w.runtime])).toEqual([
      ["gpu", { kind: "vllm", version: "0.18.1" }],
      ["old", undefined],
      ["sim", { kind: "simulator", version: "altiplano-vllm-simulator-0.1.0" }],
    ]);
  });

  it("sets an alarm for the next expiry, and the alarm forgets long-gone workers", async () => {
    const stub = freshPool();
    const longAgo = Date.now() - 11 * 60_000;
    await stub.heartbeat(beat("old"), longAgo);
    const liveAt = Date.now();
    await stub.heartbeat(beat("live"), liveAt);
    // The old worker's alarm time is already past, so workerd may run the alarm by itself at any
    // moment (CI saw it mid-run): run it if it is still pending, then wait for the outcome
    // rather than look at one instant.
    await runDurableObjectAlarm(stub);
    await waitFor(async () => ((await stub.snapshot()).workers.map((w) => w.id).join() === "live" ? true : undefined));
    // Rescheduled for the live worker's expiry, which is still ahead.
    const next = await waitFor(async () => (await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())) ?? undefined);
    expect(next).toBeGreaterThan(liveAt);
  });
});

describe("IsolateSnapshotCache", () => {
  function sourceOf(stub: ReturnType<typeof freshPool>, counter: { fetches: number }) {
    return async () => {
      counter.fetches++;
      return stub.snapshot(T0);
    };
  }

  it("fetches at most once per second and coalesces concurrent callers", async () => {
    const stub = freshPool();
    await stub.heartbeat(beat("a"), T0);
    const counter = { fetches: 0 };
    const cache = new IsolateSnapshotCache(sourceOf(stub, counter));
    await Promise.all([cache.getWorkerViews(env, T0), cache.getWorkerViews(env, T0), cache.getWorkerViews(env, T0 + 10)]);
    expect(counter.fetches).toBe(1);
    await cache.getWorkerViews(env, T0 + 999);
    expect(counter.fetches).toBe(1);
    await cache.getWorkerViews(env, T0 + 1_000);
    expect(counter.fetches).toBe(2);
  });

  it("adds this isolate's requests since the worker's last heartbeat, and drops them when they end", async () => {
    const stub = freshPool();
    await stub.heartbeat(beat("a"), T0);
    const cache = new IsolateSnapshotCache(sourceOf(stub, { fetches: 0 }));
    const before = cache.beginRequest("a", T0 - 10); // already counted in the heartbeat's `running`
    const end1 = cache.beginRequest("a", T0 + 5);
    const end2 = cache.beginRequest("a", T0 + 6);
    const views = await cache.getWorkerViews(env, T0 + 10);
    expect(views).toEqual([
      {
        id: "a",
        url: "https://a.gpu.example.com",
        models: ["vicuna-13b-v1.5"],
        state: "ready",
        running: 3,
        waiting: 0,
        kvCacheUsage: 0.2,
        inFlight: 2,
        cooldownUntil: 0,
      },
    ]);
    end1();
    end1();
    before();
    expect((await cache.getWorkerViews(env, T0 + 20))[0]?.inFlight).toBe(1);
    end2();
    expect((await cache.getWorkerViews(env, T0 + 30))[0]?.inFlight).toBe(0);
  });

  it("uses the previous snapshot for a while when the pool cannot be reached", async () => {
    const stub = freshPool();
    await stub.heartbeat(beat("a"), T0);
    let failing = false;
    const cache = new IsolateSnapshotCache(async () => {
      if (failing) throw new Error("pool unreachable");
      return stub.snapshot(T0);
    });
    await cache.getWorkerViews(env, T0);
    failing = true;
    expect((await cache.getWorkerViews(env, T0 + 5_000)).map((v) => v.id)).toEqual(["a"]);
    await expect(cache.getWorkerViews(env, T0 + 20_000)).rejects.toThrow("pool unreachable");
  });
});
