import { describe, expect, it } from "vitest";
import type { Heartbeat } from "../../wire/heartbeat.js";
import { parsePoolConfig } from "../../workers/pool/pool-config.js";
import {
  applyAdminAction,
  applyHeartbeat,
  effectiveState,
  heartbeatReply,
  isPrunable,
  isUrlAllowed,
  nextAlarmAt,
  recordFailure,
  recordSuccess,
  restoreRecord,
  shouldPersist,
  toWorkerView,
  type WorkerRecord,
} from "../../workers/pool/pool-state.js";
import { desiredReplicas, type ReplicaInput } from "../../workers/pool/replicas.js";

const config = parsePoolConfig({ POOL_HEARTBEAT_INTERVAL_MS: "1000" });
const T0 = 1_700_000_000_000;

function beat(overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    workerId: "w1",
    url: "https://gpu-1.example.com",
    models: [{ id: "vicuna-13b-v1.5", maxModelLen: 4096 }],
    state: "ready",
    healthy: true,
    load: { running: 2, waiting: 1, kvCacheUsage: 0.25, prefixCacheHitRate: 0.5, tokensPerSecond: 40 },
    ...overrides,
  };
}

function joined(overrides: Partial<WorkerRecord> = {}): WorkerRecord {
  return { ...applyHeartbeat(undefined, beat(), T0, config), ...overrides };
}

describe("effectiveState over time and intent", () => {
  const cases: Array<[string, Partial<WorkerRecord>, number, string]> = [
    ["fresh beat", {}, 0, "ready"],
    ["one interval silent", {}, 1_000, "ready"],
    ["a late beat is still ready (1.5 intervals)", {}, 1_500, "ready"],
    ["missed one beat (2 intervals)", {}, 2_001, "unhealthy"],
    ["three intervals exactly", {}, 3_000, "unhealthy"],
    ["past three intervals", {}, 3_001, "gone"],
    ["vLLM unhealthy", { healthy: false }, 0, "unhealthy"],
    ["agent draining", { agentState: "draining" }, 0, "draining"],
    ["operator drain", { adminState: "draining" }, 0, "draining"],
    ["operator cordon", { adminState: "cordoned" }, 0, "cordoned"],
    ["cordoned and unhealthy shows intent", { adminState: "cordoned", healthy: false }, 0, "cordoned"],
    ["draining but silent too long is gone", { agentState: "draining" }, 3_001, "gone"],
  ];
  it.each(cases)("%s", (_name, overrides, elapsedMs, expected) => {
    expect(effectiveState(joined(overrides), T0 + elapsedMs, config)).toBe(expected);
  });
});

describe("applyHeartbeat", () => {
  it("joins a new worker as ready and replies with the interval", () => {
    const record = applyHeartbeat(undefined, beat(), T0, config);
    expect(record).toMatchObject({ id: "w1", joinedAt: T0, lastHeartbeatAt: T0, adminState: "active" });
    expect(heartbeatReply(record, T0, config)).toEqual({ state: "ready", heartbeatIntervalMs: 1_000 });
  });

  it("keeps an operator's cordon across beats and tells the agent", () => {
    const cordoned = applyAdminAction(joined(), "cordon");
    const next = applyHeartbeat(cordoned, beat(), T0 + 1_000, config);
    expect(heartbeatReply(next, T0 + 1_000, config).state).toBe("cordoned");
  });

  it("keeps the breaker on a normal beat, resets it when a gone worker rejoins", () => {
    const tripped = joined({ consecutiveFailures: 3, cooldownUntil: T0 + 10_000, totalFailures: 3 });
    expect(applyHeartbeat(tripped, beat(), T0 + 1_000, config)).toMatchObject({ consecutiveFailures: 3, joinedAt: T0 });
    const back = applyHeartbeat(tripped, beat(), T0 + 60_000, config);
    expect(back).toMatchObject({ consecutiveFailures: 0, cooldownUntil: 0, totalFailures: 3, joinedAt: T0 + 60_000 });
    expect(effectiveState(back, T0 + 60_000, config)).toBe("ready");
  });

  it("treats a URL change as a rejoin", () => {
    const tripped = joined({ consecutiveFailures: 5 });
    expect(applyHeartbeat(tripped, beat({ url: "https://gpu-9.example.com" }), T0 + 500, config).consecutiveFailures).toBe(0);
  });
});

describe("applyAdminAction", () => {
  const cases: Array<[string, WorkerRecord["adminState"], "drain" | "cordon" | "uncordon", WorkerRecord["adminState"]]> = [
    ["drain an active worker", "active", "drain", "draining"],
    ["cordon an active worker", "active", "cordon", "cordoned"],
    ["cordon keeps a drain", "draining", "cordon", "draining"],
    ["uncordon undoes a cordon", "cordoned", "uncordon", "active"],
    ["uncordon undoes a drain", "draining", "uncordon", "active"],
  ];
  it.each(cases)("%s", (_name, before, action, after) => {
    expect(applyAdminAction(joined({ adminState: before }), action).adminState).toBe(after);
  });
});

describe("circuit breaker (3 failures, 10 s cooldown)", () => {
  it("opens after three consecutive failures and doubles on a failed probe", () => {
    let record = joined();
    record = recordFailure(record, T0 + 1, config);
    record = recordFailure(record, T0 + 2, config);
    expect(record.cooldownUntil).toBe(0);
    record = recordFailure(record, T0 + 3, config);
    expect(record.cooldownUntil).toBe(T0 + 3 + 10_000);
    // Failures of requests that started before the breaker opened do not extend it.
    record = recordFailure(record, T0 + 4, config);
    expect(record).toMatchObject({ cooldownUntil: T0 + 3 + 10_000, consecutiveFailures: 3, totalFailures: 4 });
    // After the cooldown, one failed probe re-opens it for twice as long.
    record = recordFailure(record, T0 + 20_000, config);
    expect(record.cooldownUntil).toBe(T0 + 20_000 + 20_000);
    expect(recordSuccess(record)).toMatchObject({ consecutiveFailures: 0, cooldownUntil: 0 });
  });

  it("caps the cooldown at 8x", () => {
    let record = joined({ consecutiveFailures: 20 });
    record = recordFailure(record, T0, config);
    expect(record.cooldownUntil).toBe(T0 + 80_000);
  });

  it("a success on a closed breaker returns the same record", () => {
    const record = joined();
    expect(recordSuccess(record)).toBe(record);
  });
});

describe("persistence and restore", () => {
  it("writes membership changes at once and load-only changes at most every 15 s", () => {
    const first = joined();
    const sameMembership = applyHeartbeat(first, beat({ load: { ...beat().load, running: 9 } }), T0 + 1_000, config);
    expect(shouldPersist(undefined, first, 0, T0)).toBe(true);
    expect(shouldPersist(first, sameMembership, T0, T0 + 1_000)).toBe(false);
    expect(shouldPersist(first, sameMembership, T0, T0 + 15_000)).toBe(true);
    expect(shouldPersist(first, applyHeartbeat(first, beat({ state: "draining" }), T0 + 1_000, config), T0, T0 + 1_000)).toBe(true);
    expect(shouldPersist(first, applyHeartbeat(first, beat({ healthy: false }), T0 + 1_000, config), T0, T0 + 1_000)).toBe(true);
  });

  it("keeps the runtime a worker reports, and writes a change of it (an upgraded vLLM) at once", () => {
    const onVllm = applyHeartbeat(undefined, beat({ runtime: { kind: "vllm", version: "0.18.1" } }), T0, config);
    expect(onVllm.runtime).toEqual({ kind: "vllm", version: "0.18.1" });
    const sameAgain = applyHeartbeat(onVllm, beat({ runtime: { kind: "vllm", version: "0.18.1" } }), T0 + 1_000, config);
    expect(shouldPersist(onVllm, sameAgain, T0, T0 + 1_000)).toBe(false);
    const upgraded = applyHeartbeat(onVllm, beat({ runtime: { kind: "vllm", version: "0.19.0" } }), T0 + 1_000, config);
    expect(upgraded.runtime).toEqual({ kind: "vllm", version: "0.19.0" });
    expect(shouldPersist(onVllm, upgraded, T0, T0 + 1_000)).toBe(true);
    // An agent that can no longer read /version does not leave the old version standing.
    expect(applyHeartbeat(onVllm, beat(), T0 + 1_000, config).runtime).toBeUndefined();
  });

  it("gives a recently persisted worker one interval of grace after a restart, not an old one", () => {
    const recent = joined();
    expect(restoreRecord(recent, T0 + 10_000, config).lastHeartbeatAt).toBe(T0 + 9_000);
    expect(effectiveState(restoreRecord(recent, T0 + 10_000, config), T0 + 10_000, config)).toBe("ready");
    const old = joined();
    expect(restoreRecord(old, T0 + 60_000, config)).toEqual(old);
  });
});

describe("expiry scheduling and pruning", () => {
  it("wakes at the next expiry, then at the prune time of a gone worker", () => {
    const a = joined({ id: "a", lastHeartbeatAt: T0 });
    const b = joined({ id: "b", lastHeartbeatAt: T0 + 500 });
    expect(nextAlarmAt([a, b], T0 + 100, config)).toBe(T0 + 3_001);
    expect(nextAlarmAt([a], T0 + 5_000, config)).toBe(T0 + 3_001 + 600_000);
    expect(nextAlarmAt([], T0, config)).toBeNull();
  });

  it("prunes a worker only after ten minutes gone", () => {
    expect(isPrunable(joined(), T0 + 3_001 + 599_000, config)).toBe(false);
    expect(isPrunable(joined(), T0 + 3_001 + 600_000, config)).toBe(true);
  });
});

describe("isUrlAllowed", () => {
  const cases: Array<[string, string[], boolean]> = [
    ["https://anything.example", [], true],
    ["https://gpu-1.pool.example.com", ["https://*.pool.example.com"], true],
    ["https://gpu-1.pool.example.com.evil.net", ["https://*.pool.example.com"], false],
    ["https://evil.net/?x=.pool.example.com", ["https://*.pool.example.com"], false],
    ["https://evil.net@x.pool.example.com", ["https://*.pool.example.com"], false],
    ["https://gpu-2.pool.example.com:8443", ["https://*.pool.example.com:*"], true],
    ["http://127.0.0.1:8001", ["http://127.0.0.1:"], true],
    ["http://127.0.0.2:8001", ["http://127.0.0.1:"], false],
    ["https://gpu.internal/v1", ["https://a.example", "https://gpu.internal/"], true],
  ];
  it.each(cases)("%s against %j → %s", (url, patterns, expected) => {
    expect(isUrlAllowed(url, patterns)).toBe(expected);
  });
});

describe("toWorkerView", () => {
  it("produces exactly the routing module's view", () => {
    expect(toWorkerView(joined({ cooldownUntil: 5 }), T0, config)).toEqual({
      id: "w1",
      url: "https://gpu-1.example.com",
      models: ["vicuna-13b-v1.5"],
      state: "ready",
      running: 2,
      waiting: 1,
      kvCacheUsage: 0.25,
      inFlight: 0,
      cooldownUntil: 5,
    });
  });
});

describe("desiredReplicas", () => {
  const target = { targetConcurrencyPerWorker: 16, targetKvUsage: 0.8, minReplicas: 1, maxReplicas: 10 };
  const w = (state: ReplicaInput["state"], running: number, waiting: number, kvCacheUsage: number): ReplicaInput => ({
    state,
    models: ["m"],
    running,
    waiting,
    kvCacheUsage,
  });
  const cases: Array<[string, ReplicaInput[], number]> = [
    ["no workers: the minimum", [], 1],
    ["idle worker: the minimum", [w("ready", 0, 0, 0)], 1],
    ["exactly at target concurrency", [w("ready", 16, 0, 0.3)], 1],
    ["a queue adds demand", [w("ready", 16, 1, 0.3)], 2],
    ["two busy workers with queues", [w("ready", 24, 20, 0.5), w("ready", 24, 20, 0.5)], 6],
    ["KV pressure with few sequences", [w("ready", 4, 0, 0.95), w("ready", 4, 0, 0.95)], 3],
    ["draining workers' load still counts", [w("draining", 20, 0, 0.1)], 2],
    ["gone workers do not count", [w("gone", 100, 100, 1)], 1],
    ["capped at the maximum", [w("ready", 500, 500, 1)], 10],
  ];
  it.each(cases)("%s", (_name, workers, expected) => {
    const [m] = desiredReplicas(workers, ["m"], target);
    expect(m?.desiredReplicas).toBe(expected);
  });

  it("lists configured models with no workers and models only workers serve", () => {
    const result = desiredReplicas([{ ...w("ready", 1, 0, 0), models: ["other"] }], ["m"], target);
    expect(result.map((r) => [r.model, r.readyWorkers, r.desiredReplicas])).toEqual([
      ["m", 0, 1],
      ["other", 1, 1],
    ]);
  });
});

describe("parsePoolConfig", () => {
  it("uses defaults and rejects malformed values by name", () => {
    expect(parsePoolConfig({})).toMatchObject({ heartbeatIntervalMs: 1_000, breakerFailureThreshold: 3, allowedUrlPatterns: [] });
    expect(parsePoolConfig({ POOL_ALLOWED_URLS: "https://a.example, https://*.b.example" }).allowedUrlPatterns).toEqual([
      "https://a.example",
      "https://*.b.example",
    ]);
    expect(() => parsePoolConfig({ POOL_HEARTBEAT_INTERVAL_MS: "soon" })).toThrow(/POOL_HEARTBEAT_INTERVAL_MS/);
    expect(() => parsePoolConfig({ POOL_TARGET_KV_USAGE: "1.5" })).toThrow(/POOL_TARGET_KV_USAGE/);
  });
});
