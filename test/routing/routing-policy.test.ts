import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_ROUTING_OPTIONS,
  MAX_ROUTE_CANDIDATES,
  routeRequest,
  type RouteDecision,
  type RouteRequest,
  type RoutingOptions,
  type WorkerView,
} from "../../workers/pool/routing.js";

const MODEL = "vicuna-13b-v1.5";
const NOW_MS = 1_700_000_000_000;
const OPTIONS: RoutingOptions = {
  absoluteLoadThreshold: 8,
  relativeLoadThreshold: 1.5,
  kvCacheThreshold: 0.9,
  waitingShedThreshold: 32,
};

function worker(id: string, over: Partial<WorkerView> = {}): WorkerView {
  return {
    id,
    url: `http://${id}.test:8000`,
    models: [MODEL],
    state: "ready",
    running: 0,
    waiting: 0,
    kvCacheUsage: 0.1,
    inFlight: 0,
    cooldownUntil: 0,
    ...over,
  };
}

function conversation(id: string | null, prefixHash: string | null = null): RouteRequest {
  return { model: MODEL, conversationId: id, prefixHash };
}

/** A random source that replays `values`, then repeats the last one. */
function replay(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

function route(
  workers: readonly WorkerView[],
  request: RouteRequest,
  o: { options?: RoutingOptions; random?: () => number } = {},
): RouteDecision {
  return routeRequest(workers, request, { options: o.options ?? OPTIONS, now: NOW_MS, random: o.random ?? Math.random });
}

function routed(decision: RouteDecision): Extract<RouteDecision, { kind: "route" }> {
  if (decision.kind !== "route") throw new Error(`expected a route, got ${JSON.stringify(decision)}`);
  return decision;
}

function firstId(workers: readonly WorkerView[], request: RouteRequest, random?: () => number): string {
  return routed(route(workers, request, { random })).candidates[0]!.id;
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `worker-${i}`);

describe("eligibility", () => {
  const cases: { name: string; other: Partial<WorkerView>; eligible: boolean }[] = [
    { name: "ready", other: {}, eligible: true },
    { name: "draining", other: { state: "draining" }, eligible: false },
    { name: "cordoned", other: { state: "cordoned" }, eligible: false },
    { name: "unhealthy", other: { state: "unhealthy" }, eligible: false },
    { name: "gone", other: { state: "gone" }, eligible: false },
    { name: "another model only", other: { models: ["llama-2-7b"] }, eligible: false },
    { name: "several models including this one", other: { models: ["llama-2-7b", MODEL] }, eligible: true },
    { name: "in cooldown", other: { cooldownUntil: NOW_MS + 1 }, eligible: false },
    { name: "cooldown ending now", other: { cooldownUntil: NOW_MS }, eligible: true },
    { name: "cooldown over", other: { cooldownUntil: NOW_MS - 5_000 }, eligible: true },
  ];
  it.each(cases)("a worker that is $name is eligible: $eligible", ({ other, eligible }) => {
    // The other worker is idle, so only eligibility can keep the busy one out of the list.
    const workers = [worker("other", other), worker("busy", { running: 50 })];
    const listed = routed(route(workers, conversation("c-1"))).candidates.map((w) => w.id);
    expect(listed.includes("other")).toBe(eligible);
    expect(listed).toContain("busy");
  });

  it("answers no-workers when nobody eligible serves the model", () => {
    const workers = [worker("a", { state: "draining" }), worker("b", { models: ["other-model"] }), worker("c", { cooldownUntil: NOW_MS + 10 })];
    expect(route(workers, conversation("c-1"))).toEqual({ kind: "no-workers" });
    expect(route([], conversation(null))).toEqual({ kind: "no-workers" });
  });
});

describe("affinity", () => {
  const workers = ids(8).map((id) => worker(id));

  it("sends every turn of a conversation to the same worker, whatever the random source", () => {
    for (const conv of ["conv-a", "conv-b", "0b6c7f0e-1d1e-4c55-9b8f-4ad0f3e1a2b3"]) {
      const chosen = new Set([0, 0.3, 0.7, 0.999].map((r) => firstId(workers, conversation(conv), () => r)));
      expect(chosen.size).toBe(1);
      expect(routed(route(workers, conversation(conv))).affinity).toBe("pinned");
    }
  });

  it("does not depend on the order of the snapshot", () => {
    const reversed = [...workers].reverse();
    for (let k = 0; k < 50; k++) {
      expect(firstId(reversed, conversation(`conv-${k}`))).toBe(firstId(workers, conversation(`conv-${k}`)));
    }
  });

  it("spreads conversations over all workers roughly evenly", () => {
    const counts = new Map<string, number>();
    const keys = 4_000;
    for (let k = 0; k < keys; k++) {
      const id = firstId(workers, conversation(`conv-${k}`));
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(counts.size).toBe(workers.length);
    const fair = keys / workers.length;
    for (const n of counts.values()) expect(Math.abs(n - fair)).toBeLessThan(fair * 0.25);
  });

  it("removing a worker moves only its own conversations; adding one takes only conversations for itself", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 2, maxLength: 12 }),
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 200 }),
        fc.nat(),
        (workerIds, keys, pick) => {
          const all = workerIds.map((id) => worker(id));
          const removed = workerIds[pick % workerIds.length]!;
          const fewer = all.filter((w) => w.id !== removed);
          for (const key of keys) {
            const before = firstId(all, conversation(key));
            const after = firstId(fewer, conversation(key));
            if (before !== removed) expect(after).toBe(before);
            // Read the other way round, this is adding `removed` back.
            if (after !== before) expect(before).toBe(removed);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("uses the prompt-prefix hash when there is no conversation, and the conversation id first", () => {
    const byPrefix = new Set([0, 0.5, 0.99].map((r) => firstId(workers, conversation(null, "prefix-1f2e"), () => r)));
    expect(byPrefix.size).toBe(1);
    expect(routed(route(workers, conversation(null, "prefix-1f2e"))).affinity).toBe("pinned");
    // Same prefix, many conversations: the conversation id decides, so they spread out.
    const byConversation = new Set(Array.from({ length: 40 }, (_, k) => firstId(workers, conversation(`c-${k}`, "prefix-1f2e"))));
    expect(byConversation.size).toBeGreaterThan(1);
  });

  it("without any key has no affinity and balances by load", () => {
    const loaded = [worker("a", { running: 30 }), worker("b", { running: 2 })];
    const decision = routed(route(loaded, conversation(null)));
    expect(decision.affinity).toBe("none");
    expect(decision.candidates[0]!.id).toBe("b");
  });
});

describe("load gate", () => {
  const names = ids(4);
  const pinnedFor = (key: string): string => firstId(names.map((id) => worker(id)), conversation(key));

  // Pinned worker's load vs the least loaded one (every other worker has `minLoad`).
  const cases: { name: string; pinnedLoad: number; minLoad: number; affinity: "pinned" | "load-broken" }[] = [
    { name: "balanced", pinnedLoad: 5, minLoad: 5, affinity: "pinned" },
    { name: "at the absolute margin exactly", pinnedLoad: 8, minLoad: 0, affinity: "pinned" },
    { name: "over the absolute margin from idle", pinnedLoad: 9, minLoad: 0, affinity: "load-broken" },
    { name: "over the absolute margin but not the relative one", pinnedLoad: 70, minLoad: 60, affinity: "pinned" },
    { name: "over the relative factor but not the absolute margin", pinnedLoad: 6, minLoad: 2, affinity: "pinned" },
    { name: "over both", pinnedLoad: 100, minLoad: 60, affinity: "load-broken" },
    { name: "less loaded than the rest", pinnedLoad: 1, minLoad: 40, affinity: "pinned" },
  ];
  it.each(cases)("$name ($pinnedLoad vs $minLoad): $affinity", ({ pinnedLoad, minLoad, affinity }) => {
    const key = "conv-gate";
    const pinned = pinnedFor(key);
    const workers = names.map((id) => worker(id, { running: id === pinned ? pinnedLoad : minLoad }));
    const decision = routed(route(workers, conversation(key)));
    expect(decision.affinity).toBe(affinity);
    if (affinity === "pinned") expect(decision.candidates[0]!.id).toBe(pinned);
    else expect(decision.candidates[0]!.id).not.toBe(pinned);
  });

  it("counts running, waiting and in-flight alike", () => {
    const key = "conv-parts";
    const pinned = pinnedFor(key);
    for (const part of ["running", "waiting", "inFlight"] as const) {
      const workers = names.map((id) => worker(id, id === pinned ? { [part]: 9 } : {}));
      expect(routed(route(workers, conversation(key))).affinity).toBe("load-broken");
    }
  });

  const kvCases: { kvCacheUsage: number; affinity: "pinned" | "load-broken" }[] = [
    { kvCacheUsage: 0.5, affinity: "pinned" },
    { kvCacheUsage: 0.9, affinity: "pinned" },
    { kvCacheUsage: 0.95, affinity: "load-broken" },
  ];
  it.each(kvCases)("a pinned worker at KV usage $kvCacheUsage: $affinity", ({ kvCacheUsage, affinity }) => {
    const key = "conv-kv";
    const pinned = pinnedFor(key);
    const workers = names.map((id) => worker(id, id === pinned ? { kvCacheUsage } : {}));
    expect(routed(route(workers, conversation(key))).affinity).toBe(affinity);
  });

  it("keeps the pin when the pinned worker is the only one, however loaded", () => {
    const decision = routed(route([worker("solo", { running: 200, kvCacheUsage: 0.99 })], conversation("c")));
    expect(decision.candidates.map((w) => w.id)).toEqual(["solo"]);
  });
});

describe("power of two choices", () => {
  // Three workers, no key: random 0 then 0.99 samples indices 0 and 2 (the second draw skips the first).
  const workers = [worker("w0", { running: 5 }), worker("w1", { running: 0 }), worker("w2", { running: 3 })];

  it("picks the lesser loaded of the two sampled workers, not the global minimum", () => {
    expect(firstId(workers, conversation(null), replay(0, 0.99))).toBe("w2");
    expect(firstId(workers, conversation(null), replay(0.5, 0))).toBe("w1");
  });

  it("never samples the pinned worker once its pin is broken", () => {
    const names = ids(3);
    const key = "conv-p2c";
    const pinned = firstId(names.map((id) => worker(id)), conversation(key));
    const overloaded = names.map((id) => worker(id, { running: id === pinned ? 50 : 1 }));
    for (const r of [0, 0.3, 0.6, 0.99]) {
      const decision = routed(route(overloaded, conversation(key), { random: () => r }));
      expect(decision.affinity).toBe("load-broken");
      expect(decision.candidates[0]!.id).not.toBe(pinned);
    }
  });
});

describe("candidate order", () => {
  it("lists the chosen worker, then the others by load, without duplicates", () => {
    const workers = [worker("a", { running: 7 }), worker("b", { running: 1 }), worker("c", { running: 4 }), worker("d", { state: "cordoned" })];
    const decision = routed(route(workers, conversation(null), { random: replay(0, 0) }));
    const listed = decision.candidates.map((w) => w.id);
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed.sort()).toEqual(["a", "b", "c"]);
    const rest = decision.candidates.slice(1).map((w) => w.running);
    expect(rest).toEqual([...rest].sort((x, y) => x - y));
  });

  it("is capped for large pools and keeps the least loaded alternatives", () => {
    const workers = ids(100).map((id, i) => worker(id, { running: 100 - i }));
    const decision = routed(route(workers, conversation("conv-big")));
    expect(decision.candidates).toHaveLength(MAX_ROUTE_CANDIDATES);
    const alternatives = decision.candidates.slice(1).map((w) => w.running);
    expect(alternatives).toEqual(
      workers
        .filter((w) => w.id !== decision.candidates[0]!.id)
        .map((w) => w.running)
        .sort((x, y) => x - y)
        .slice(0, MAX_ROUTE_CANDIDATES - 1),
    );
  });
});

describe("admission control", () => {
  it("routes while any eligible worker's queue is at or under the threshold", () => {
    const workers = [worker("a", { waiting: 40 }), worker("b", { waiting: 32 }), worker("c", { waiting: 0, state: "draining" })];
    expect(route(workers, conversation("c")).kind).toBe("route");
  });

  // retry = ceil((waiting - threshold + 1) * 8 s / max(1, running)), the smallest over workers, in 1..60.
  const cases: { name: string; queues: { waiting: number; running: number }[]; retryAfterSeconds: number }[] = [
    { name: "one queue just over", queues: [{ waiting: 33, running: 16 }], retryAfterSeconds: 1 },
    { name: "a long queue on a busy worker", queues: [{ waiting: 40, running: 16 }], retryAfterSeconds: 5 },
    { name: "the shortest wait wins", queues: [{ waiting: 40, running: 16 }, { waiting: 36, running: 8 }], retryAfterSeconds: 5 },
    { name: "nothing running: capped", queues: [{ waiting: 500, running: 0 }], retryAfterSeconds: 60 },
  ];
  it.each(cases)("sheds with Retry-After when every queue is over: $name", ({ queues, retryAfterSeconds }) => {
    const workers = queues.map((q, i) => worker(`w${i}`, q));
    expect(route(workers, conversation("c"))).toEqual({ kind: "overloaded", retryAfterSeconds });
  });

  it("ignores ineligible workers' queues", () => {
    const workers = [worker("a", { waiting: 50, running: 10 }), worker("b", { waiting: 0, state: "cordoned" })];
    expect(route(workers, conversation("c")).kind).toBe("overloaded");
  });
});

describe("defaults", () => {
  it("are valid thresholds", () => {
    expect(DEFAULT_ROUTING_OPTIONS.absoluteLoadThreshold).toBeGreaterThanOrEqual(0);
    expect(DEFAULT_ROUTING_OPTIONS.relativeLoadThreshold).toBeGreaterThanOrEqual(1);
    expect(DEFAULT_ROUTING_OPTIONS.kvCacheThreshold).toBeGreaterThan(0);
    expect(DEFAULT_ROUTING_OPTIONS.kvCacheThreshold).toBeLessThanOrEqual(1);
    expect(DEFAULT_ROUTING_OPTIONS.waitingShedThreshold).toBeGreaterThan(0);
  });
});
