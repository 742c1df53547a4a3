/**
 * Wall-clock cost of one routing decision (the real routeRequest) at a given pool size: a snapshot
 * of `workers` views with varied loads (a few draining or in cooldown), conversation keys cycling
 * through a set of 1,000, each call timed on its own with process.hrtime (which adds well under a
 * tenth of a microsecond). Warm-up calls first so the JIT has settled.
 */
import { DEFAULT_ROUTING_OPTIONS, routeRequest, type WorkerView } from "../../workers/pool/routing.js";
import { summarize } from "../lib/stats.js";
import { SIM_MODEL } from "./policies.js";
import { seededRandom } from "./rng.js";

export interface RoutingCost {
  workers: number;
  iterations: number;
  meanUs: number;
  medianUs: number;
  p99Us: number;
}

const KEY_COUNT = 1_000;
const NOW_MS = 1_750_000_000_000;

/** Times `iterations` decisions over a pool of `workers`. */
export function measureRoutingCost(o: { workers: number; iterations: number; seed: number }): RoutingCost {
  const random = seededRandom(o.seed);
  const views: WorkerView[] = Array.from({ length: o.workers }, (_, i) => {
    const r = random();
    return {
      id: `0b6c7f0e-1d1e-4c55-9b8f-${i.toString(16).padStart(12, "0")}`,
      url: `https://gpu-${i}.example.net`,
      models: [SIM_MODEL],
      state: r < 0.03 ? "draining" : "ready",
      running: Math.floor(random() * 48),
      waiting: Math.floor(random() * 3),
      kvCacheUsage: random() * 0.95,
      inFlight: Math.floor(random() * 4),
      cooldownUntil: r > 0.98 ? NOW_MS + 10_000 : 0,
    };
  });
  const keys = Array.from({ length: KEY_COUNT }, (_, k) => `conv-${k.toString(36)}-${Math.floor(random() * 1e9).toString(36)}`);
  const context = { options: DEFAULT_ROUTING_OPTIONS, now: NOW_MS, random };
  const decide = (k: number): number => {
    const d = routeRequest(views, { model: SIM_MODEL, conversationId: keys[k % KEY_COUNT]!, prefixHash: null }, context);
    return d.kind === "route" ? d.candidates.length : 0;
  };
  let sink = 0;
  for (let k = 0; k < Math.max(1_000, o.iterations / 10); k++) sink += decide(k);
  const samples = new Float64Array(o.iterations);
  for (let k = 0; k < o.iterations; k++) {
    const start = process.hrtime.bigint();
    sink += decide(k);
    samples[k] = Number(process.hrtime.bigint() - start) / 1000;
  }
  if (sink < 0) throw new Error("unreachable: keeps the calls from being optimised away");
  const s = summarize(samples);
  return { workers: o.workers, iterations: o.iterations, meanUs: s.mean, medianUs: s.p50, p99Us: s.p99 };
}
