/**
 * The calibration run's one configuration (flags `--duration-s 75`, env `CALIBRATE_DURATION_S`,
 * defaults), parsed once with zod, and the cluster-simulation configuration derived from it. The
 * workload is the cluster benchmark's, scaled so that a 2-core machine can relay it in real time
 * through the local gateway: fewer batch slots, shorter answers and think times.
 */
import { z } from "zod";
import { describeOptionIssues, readBenchOptions } from "../lib/cli-config.js";
import { clusterConfig, type ClusterConfig } from "../cluster/config.js";

export const CalibrateConfigSchema = z.object({
  seed: z.coerce.number().int().min(0).default(7),
  workers: z.coerce.number().int().min(1).max(8).default(4), // simulators behind the gateway / simulated workers
  load: z.coerce.number().min(0.05).max(1.5).default(0.5), // offered load as a fraction of simulated capacity
  durationS: z.coerce.number().min(10).default(80), // sessions arrive and turns start until then (real seconds)
  warmupS: z.coerce.number().min(0).default(20), // requests arriving before this are not measured
  drainS: z.coerce.number().min(1).default(25), // after durationS: longest wait for turns in flight
  maxNumSeqs: z.coerce.number().int().min(1).default(4), // per worker, the simulator's --max-num-seqs
  cacheBlocks: z.coerce.number().int().min(1).default(2048), // per worker, 16-token blocks
  turnsMin: z.coerce.number().int().min(1).default(2),
  turnsMax: z.coerce.number().int().min(1).default(6),
  thinkTimeMeanS: z.coerce.number().min(0).default(3),
  answerTokensMedian: z.coerce.number().min(1).default(100),
  maxAnswerTokens: z.coerce.number().int().min(1).default(256),
  outDir: z.string().min(1).default("bench/results"),
});

export type CalibrateConfig = z.infer<typeof CalibrateConfigSchema>;

/** The configuration from argv and env; throws a readable error. */
export function loadCalibrateConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CalibrateConfig {
  const { fromEnv, fromFlags } = readBenchOptions({ schema: CalibrateConfigSchema, envPrefix: "CALIBRATE", argv, env });
  const input = { ...fromEnv, ...fromFlags };
  const parsed = CalibrateConfigSchema.refine((c) => c.warmupS < c.durationS, { message: "warmupS must be < durationS", path: ["warmupS"] })
    .refine((c) => c.turnsMax >= c.turnsMin, { message: "turnsMax must be >= turnsMin", path: ["turnsMax"] })
    .safeParse(input);
  if (!parsed.success) {
    throw new Error(`invalid calibration configuration:\n${describeOptionIssues(parsed.error.issues)}`);
  }
  return parsed.data;
}

/** The cluster simulation's configuration for the same workload and cluster. */
export function simulationConfig(c: CalibrateConfig): ClusterConfig {
  return clusterConfig({
    seed: c.seed,
    workers: c.workers,
    maxNumSeqs: c.maxNumSeqs,
    cacheBlocks: c.cacheBlocks,
    turnsMin: c.turnsMin,
    turnsMax: c.turnsMax,
    thinkTimeMeanS: c.thinkTimeMeanS,
    answerTokensMedian: c.answerTokensMedian,
    maxAnswerTokens: c.maxAnswerTokens,
    durationS: c.durationS,
    warmupS: c.warmupS,
    loads: [c.load],
    policies: ["ours"],
    // Capacity of this small cluster, measured by the simulation in virtual time (seconds of wall).
    capacityDurationS: 300,
    capacityWarmupS: 100,
  });
}
