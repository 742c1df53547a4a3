/**
 * The cluster benchmark's one configuration, parsed once with zod. Every field can be set by a
 * flag of the same name in kebab case (`--max-num-seqs 64`) or by an environment variable
 * CLUSTER_<NAME> in upper snake case (`CLUSTER_MAX_NUM_SEQS=64`); flags win over env, env over
 * the `--quick` preset, the preset over defaults. Lists are comma-separated.
 */
import { z } from "zod";
import { describeOptionIssues, readBenchOptions } from "../lib/cli-config.js";
import { POLICY_NAMES } from "./policies.js";

const int = (min: number) => z.coerce.number().int().min(min);
const num = (min: number) => z.coerce.number().min(min);
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter((s) => s !== "") : v), z.array(item).min(1));

export const ClusterConfigSchema = z
  .object({
    // Cluster
    workers: int(1).default(16), // simulated vLLM workers
    maxNumSeqs: int(1).default(48), // vLLM --max-num-seqs: running sequences per worker
    cacheBlocks: int(1).default(8192), // KV/prefix cache per worker in 16-token blocks (8192 = 131k tokens)
    // Workload: multi-turn chat sessions
    turnsMin: int(1).default(2), // turns per session, uniform in [turnsMin, turnsMax]
    turnsMax: int(1).default(10),
    thinkTimeMeanS: num(0).default(10), // exponential pause between an answer and the next user message
    userTokensMedian: num(1).default(69), // lognormal user message length: median 69, sigma 1.3 -> mean ~161 (ShareGPT)
    userTokensSigma: num(0).default(1.3),
    answerTokensMedian: num(1).default(226), // lognormal answer length: median 226, sigma 0.9 -> mean ~339 (ShareGPT)
    answerTokensSigma: num(0).default(0.9),
    maxAnswerTokens: int(1).default(1024), // max_tokens of each request
    contextTokens: int(16).default(4096), // vicuna-13b-v1.5's window; oldest turns are dropped to fit
    defaultSystemTokens: int(0).default(35), // Vicuna v1.1's own system line, shared by every prompt
    sharedSystemPromptFraction: num(0).max(1).default(0.5), // sessions that add one of the shared app prompts
    sharedSystemPrompts: int(1).default(8), // how many distinct shared app prompts exist
    sharedSystemPromptTokens: int(0).default(400), // length of each shared app prompt
    // Sweep
    loads: list(num(0.01)).default([0.3, 0.5, 0.7, 0.8, 0.9, 1.0]), // offered load / capacity
    policies: list(z.enum(POLICY_NAMES)).default([...POLICY_NAMES]),
    durationS: num(1).default(300), // open-loop session arrivals span this long (virtual time)
    warmupS: num(0).default(120), // requests arriving before this are not measured
    // Gateway
    heartbeatIntervalMs: num(1).default(1000), // agent heartbeats -> pool snapshot (ours)
    fastchatHeartbeatIntervalS: num(1).default(30), // FastChat's WORKER_HEART_BEAT_INTERVAL
    // Capacity measurement (closed loop, least-loaded, saturated)
    capacityRps: num(0).default(0), // 0 = measure; else use this many requests/s as 100 %
    capacityDurationS: num(1).default(300),
    capacityWarmupS: num(0).default(100),
    // Routing cost microbenchmark
    costWorkers: list(int(1)).default([8, 64, 512]),
    costIterations: int(1).default(20_000),
    // Run
    seed: int(0).default(42),
    outDir: z.string().min(1).default("bench/results"),
    quick: z.coerce.boolean().default(false),
  })
  .refine((c) => c.turnsMax >= c.turnsMin, { message: "turnsMax must be >= turnsMin", path: ["turnsMax"] })
  .refine((c) => c.warmupS < c.durationS, { message: "warmupS must be < durationS", path: ["warmupS"] })
  .refine((c) => c.capacityWarmupS < c.capacityDurationS, { message: "capacityWarmupS must be < capacityDurationS", path: ["capacityWarmupS"] });

export type ClusterConfig = z.infer<typeof ClusterConfigSchema>;

/** A smoke run: seconds, not minutes. */
const QUICK_PRESET: Record<string, unknown> = {
  workers: 4,
  maxNumSeqs: 16,
  cacheBlocks: 2048,
  durationS: 150,
  warmupS: 50,
  loads: [0.5, 0.8],
  capacityDurationS: 120,
  capacityWarmupS: 40,
  costIterations: 2_000,
};

/** The configuration from flags, environment, preset and defaults; throws a readable error. */
export function loadClusterConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ClusterConfig {
  const { fromEnv, fromFlags } = readBenchOptions({ schema: ClusterConfigSchema, envPrefix: "CLUSTER", argv, env, booleanFlags: ["quick"] });
  const quickValue = fromFlags.quick ?? fromEnv.quick;
  const quick = quickValue === "true" || quickValue === "1";
  const merged = { ...(quick ? QUICK_PRESET : {}), ...fromEnv, ...fromFlags, quick };
  const parsed = ClusterConfigSchema.safeParse(merged);
  if (!parsed.success) throw new Error(`invalid cluster benchmark configuration:\n${describeOptionIssues(parsed.error.issues)}`);
  return parsed.data;
}

/** Parses a partial configuration object (tests, programmatic use) with the same rules. */
export function clusterConfig(overrides: Partial<ClusterConfig> = {}): ClusterConfig {
  return ClusterConfigSchema.parse(overrides);
}
