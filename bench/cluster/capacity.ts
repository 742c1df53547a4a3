/**
 * Capacity, the 100 % of the load sweep: the requests per second the cluster completes when
 * saturated. Measured, not computed: a closed-loop simulation keeps a population of sessions four
 * times the cluster's batch slots (so every worker always has a waiting queue), routes with the
 * least-loaded oracle (the neutral baseline: no affinity, perfect balance), and counts completions
 * per second after a warm-up. Caching helps a policy only on top of this, so a policy with better
 * hit rates may sustain more than "100 %".
 */
import type { ClusterConfig } from "./config.js";
import { simulate, type SimulationResult } from "./simulation.js";

export interface Capacity {
  requestsPerS: number;
  outputTokensPerS: number;
  measured: boolean;
  population: number;
  windowS: readonly [number, number];
  run: SimulationResult | null;
}

const POPULATION_PER_SLOT = 4;

/** Measures capacity (or takes `config.capacityRps` when it is set). */
export function measureCapacity(config: ClusterConfig): Capacity {
  const population = POPULATION_PER_SLOT * config.workers * config.maxNumSeqs;
  const windowS = [config.capacityWarmupS, config.capacityDurationS] as const;
  if (config.capacityRps > 0) {
    return { requestsPerS: config.capacityRps, outputTokensPerS: NaN, measured: false, population: 0, windowS, run: null };
  }
  const run = simulate({
    config,
    policy: "least-loaded",
    source: { kind: "closed", population, stopAtMs: config.capacityDurationS * 1000 },
    window: { fromMs: config.capacityWarmupS * 1000, untilMs: config.capacityDurationS * 1000 },
  });
  return { requestsPerS: run.completedPerS, outputTokensPerS: run.outputTokensPerS, measured: true, population, windowS, run };
}
