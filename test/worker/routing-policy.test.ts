import { describe, expect, it } from "vitest";
import { DEFAULT_ROUTING_OPTIONS, routeRequest, type WorkerView } from "../../workers/pool/routing.js";

// The full table of cases runs on Node (test/routing/); this proves the module runs in workerd too.
const MODEL = "vicuna-13b-v1.5";

function worker(id: string, over: Partial<WorkerView> = {}): WorkerView {
  return { id, url: `https://${id}.test`, models: [MODEL], state: "ready", running: 0, waiting: 0, kvCacheUsage: 0, inFlight: 0, cooldownUntil: 0, ...over };
}

describe("routing policy inside workerd", () => {
  const now = Date.now();
  const context = { options: DEFAULT_ROUTING_OPTIONS, now, random: Math.random };

  it("keeps a conversation on one worker and skips ineligible ones", () => {
    const workers = [worker("a"), worker("b"), worker("c"), worker("d", { state: "draining" }), worker("e", { cooldownUntil: now + 60_000 })];
    const firsts = new Set<string>();
    for (let turn = 0; turn < 5; turn++) {
      const decision = routeRequest(workers, { model: MODEL, conversationId: "conv-1", prefixHash: null }, context);
      if (decision.kind !== "route") throw new Error(`unexpected ${decision.kind}`);
      expect(decision.candidates.map((w) => w.id).sort()).toEqual(["a", "b", "c"]);
      firsts.add(decision.candidates[0]!.id);
    }
    expect(firsts.size).toBe(1);
  });

  it("answers no-workers and overloaded", () => {
    const request = { model: MODEL, conversationId: null, prefixHash: "p" };
    expect(routeRequest([worker("a", { models: ["other"] })], request, context)).toEqual({ kind: "no-workers" });
    const decision = routeRequest([worker("a", { waiting: 100, running: 10 })], request, context);
    expect(decision.kind).toBe("overloaded");
  });
});
