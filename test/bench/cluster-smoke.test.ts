import { describe, expect, it } from "vitest";
import { interTokenMs, prefillMs, DEFAULT_LATENCY } from "../../gpu-backend/sim/latency-model.js";
import { clusterConfig } from "../../bench/cluster/config.js";
import { measureCapacity } from "../../bench/cluster/capacity.js";
import { POLICY_NAMES } from "../../bench/cluster/policies.js";
import { charts, markdownReport, type ClusterResults, type SweepRun } from "../../bench/cluster/report.js";
import { measureRoutingCost } from "../../bench/cluster/routing-cost.js";
import { simulate, type SimulationResult } from "../../bench/cluster/simulation.js";
import { SimWorker, type WorkerRequest } from "../../bench/cluster/sim-worker.js";
import { EventQueue } from "../../bench/cluster/event-queue.js";

// A cluster small enough to simulate in well under a second per policy.
const config = clusterConfig({
  workers: 4,
  maxNumSeqs: 8,
  cacheBlocks: 1024,
  durationS: 150,
  warmupS: 30,
  turnsMin: 3,
  turnsMax: 6,
  thinkTimeMeanS: 5,
  seed: 7,
});

function run(policy: (typeof POLICY_NAMES)[number]): SimulationResult {
  return simulate({
    config,
    policy,
    source: { kind: "open", sessionsPerS: 0.4, arrivalsUntilMs: config.durationS * 1000 },
    window: { fromMs: config.warmupS * 1000, untilMs: config.durationS * 1000 },
  });
}

describe("cluster simulation", () => {
  const results = new Map(POLICY_NAMES.map((p) => [p, run(p)]));

  it.each(POLICY_NAMES)("%s: every request completes and the metrics are sane", (policy) => {
    const r = results.get(policy)!;
    expect(r.requestsIssued).toBeGreaterThan(50);
    expect(r.requestsCompleted).toBe(r.requestsIssued);
    expect(r.measuredRequests).toBeGreaterThan(0);
    expect(r.ttftMs.count).toBe(r.measuredRequests);
    expect(r.ttftMs.min).toBeGreaterThan(0);
    expect(r.ttftMs.p99).toBeGreaterThanOrEqual(r.ttftMs.p50);
    expect(r.prefixCacheHitRate).toBeGreaterThanOrEqual(0);
    expect(r.prefixCacheHitRate).toBeLessThanOrEqual(1);
    expect(r.loadImbalance).toBeGreaterThanOrEqual(1);
    expect(r.outputTokensPerS).toBeGreaterThan(0);
  });

  it("sees the same workload under every policy", () => {
    const issued = new Set([...results.values()].map((r) => r.requestsIssued));
    expect(issued.size).toBe(1);
  });

  it("is deterministic for a seed", () => {
    const again = run("ours");
    expect(again.ttftMs).toEqual(results.get("ours")!.ttftMs);
    expect(again.prefixCacheHitRate).toBe(results.get("ours")!.prefixCacheHitRate);
  });

  it("routes multi-turn conversations to warmer caches with ours than at random", () => {
    expect(results.get("ours")!.prefixCacheHitRate).toBeGreaterThan(results.get("random")!.prefixCacheHitRate);
    const affinity = results.get("ours")!.affinity;
    expect((affinity.pinned ?? 0) + (affinity["load-broken"] ?? 0)).toBe(results.get("ours")!.requestsIssued);
  });

  it("measures a positive capacity in a closed loop", () => {
    const capacity = measureCapacity(clusterConfig({ ...config, capacityDurationS: 60, capacityWarmupS: 20 }));
    expect(capacity.measured).toBe(true);
    expect(capacity.requestsPerS).toBeGreaterThan(0);
  });

  it("writes a report and charts that name every policy", () => {
    const runs: SweepRun[] = [...results.values()].map((r) => ({ ...r, load: 0.8, offeredRps: 1.6, sessionsPerS: 0.4 }));
    const all: ClusterResults = {
      generatedAt: "2025-01-01T00:00:00.000Z",
      node: "20",
      cpus: 2,
      wallS: 1,
      cpuS: 2,
      config,
      capacity: { requestsPerS: 2, outputTokensPerS: 600, measured: true, population: 128, windowS: [20, 60] },
      routingCost: [measureRoutingCost({ workers: 8, iterations: 50, seed: 1 })],
      runs,
    };
    const { p99Svg, hitRateSvg } = charts(all);
    const md = markdownReport(all);
    for (const policy of POLICY_NAMES) {
      expect(p99Svg).toContain(`>${policy}<`);
      expect(hitRateSvg).toContain(`>${policy}<`);
      expect(md).toContain(policy);
    }
    expect(p99Svg.startsWith("<svg")).toBe(true);
    expect(md).toContain("## Headline (80 % load)");
  });
});

describe("simulated worker", () => {
  function lone(): { worker: SimWorker; queue: EventQueue; events: string[] } {
    const queue = new EventQueue();
    const events: string[] = [];
    const worker = new SimWorker({
      index: 0,
      latency: DEFAULT_LATENCY,
      maxNumSeqs: 1,
      cacheBlocks: 64,
      host: {
        schedule: (at, fire) => queue.push(at, fire),
        onFirstToken: (_w, r, at) => events.push(`first ${r.tokens.length} ${at.toFixed(3)}`),
        onComplete: (_w, r, at) => events.push(`done ${r.tokens.length} ${at.toFixed(3)}`),
      },
    });
    return { worker, queue, events };
  }
  const drain = (queue: EventQueue): void => {
    for (let e = queue.pop(); e !== undefined; e = queue.pop()) e.fire();
  };
  const request = (tokens: number[], outputTokens: number): WorkerRequest => ({ tokens, outputTokens, cachedTokens: 0, firstTokenMs: NaN });

  it("times one request by the simulator's latency model, and queues the next behind it", () => {
    const { worker, queue, events } = lone();
    const prompt = Array.from({ length: 100 }, (_, i) => i + 1);
    const first = request(prompt, 10);
    const second = request([...prompt, 500, 501], 1);
    worker.submit(first, 0);
    worker.submit(second, 0);
    expect(worker.load(0)).toMatchObject({ running: 1, waiting: 1 });
    drain(queue);
    const ttft = prefillMs(DEFAULT_LATENCY, { uncachedTokens: 100, runningBatch: 1 });
    const itl = interTokenMs(DEFAULT_LATENCY, { runningBatch: 1, random: () => 0.5 });
    const done = ttft + 9 * itl;
    // The second prompt reuses the first's 6 full blocks (96 tokens) once it is admitted.
    const secondFirst = done + prefillMs(DEFAULT_LATENCY, { uncachedTokens: 102 - 96, runningBatch: 1 });
    expect(events).toEqual([
      `first 100 ${ttft.toFixed(3)}`,
      `done 100 ${done.toFixed(3)}`,
      `first 102 ${secondFirst.toFixed(3)}`,
      `done 102 ${secondFirst.toFixed(3)}`,
    ]);
    expect(second.cachedTokens).toBe(96);
    expect(worker.outstanding()).toBe(0);
  });
});
