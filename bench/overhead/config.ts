/**
 * The overhead benchmark's one configuration: flags (`--duration-ms 3000`) over environment
 * variables (`OVERHEAD_DURATION_MS`) over defaults, parsed once with zod. Lists are comma-separated.
 */
import { z } from "zod";
import { describeOptionIssues, readBenchOptions } from "../lib/cli-config.js";
import { PATH_IDS } from "./analysis.js";

const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter((s) => s !== "") : v), z.array(item).min(1));

export const OverheadConfigSchema = z.object({
  durationMs: z.coerce.number().int().min(200).default(2_500), // measured window of each cell
  warmupMs: z.coerce.number().int().min(0).default(500), // unrecorded requests before each cell's window
  concurrency: list(z.coerce.number().int().min(1).max(512)).default([1, 16, 64]),
  paths: list(z.enum(PATH_IDS)).default([...PATH_IDS]),
  maxTokens: z.coerce.number().int().min(1).max(1024).default(32), // max_tokens of every request
  countSamples: z.coerce.number().int().min(1).default(10), // traced requests per kind for D1/DO counts
  keysConcurrency: z.coerce.number().int().min(1).max(512).default(16), // one hot key against many keys
  outDir: z.string().min(1).default("bench/results"),
});

export type OverheadConfig = z.infer<typeof OverheadConfigSchema>;

/** The configuration from argv (without node and script) and env; throws a readable error. */
export function loadOverheadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): OverheadConfig {
  const { fromEnv, fromFlags } = readBenchOptions({ schema: OverheadConfigSchema, envPrefix: "OVERHEAD", argv, env });
  const parsed = OverheadConfigSchema.safeParse({ ...fromEnv, ...fromFlags });
  if (!parsed.success) throw new Error(`invalid overhead benchmark configuration:\n${describeOptionIssues(parsed.error.issues)}`);
  return parsed.data;
}
