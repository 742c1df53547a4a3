/**
 * The calibration run's one configuration (flags `--duration-s 75`, env `CALIBRATE_DURATION_S`,
 * defaults), parsed once with zod, and the cluster-simulation configuration derived from it. The
 * workload is the cluster benchmark's, scaled so that a 2-core machine can relay it in real time
 * through the local gateway: fewer batch slots, shorter answers and think times.
 */
import { z } from "zod";
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

const FIELDS = Object.keys(CalibrateConfigSchema.shape) as (keyof CalibrateConfig)[];
const kebab = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const envName = (camel: string): string => `CALIBRATE_${camel.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/** The configuration from argv and env; throws a readable error. */
export function loadCalibrateConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CalibrateConfig {
  const byFlag = new Map(FIELDS.map((f) => [kebab(f), f]));
  const input: Record<string, string> = {};
  for (const f of FIELDS) {
    const v = env[envName(f)];
    if (v !== undefined && v !== "") input[f] = v;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.replace(/^--/, "").split("=", 2) as [string, string | undefined];
    const field = arg.startsWith("--") ? byFlag.get(name) : undefined;
    if (field === undefined) throw new Error(`unknown argument ${arg}; flags: ${[...byFlag.keys()].map((k) => `--${k}`).join(" ")}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`flag --${name} needs a value`);
    input[field] = value;
  }
  const parsed = CalibrateConfigSchema.refine((c) => c.warmupS < c.durationS, { message: "warmupS must be < durationS", path: ["warmupS"] })
    .refine((c) => c.turnsMax >= c.turnsMin, { message: "turnsMax must be >= turnsMin", path: ["turnsMax"] })
    .safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  --${kebab(String(i.path[0] ?? ""))}: ${i.message}`).join("\n");
    throw new Error(`invalid calibration configuration:\n${problems}`);
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
