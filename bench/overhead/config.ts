/**
 * The overhead benchmark's one configuration: flags (`--duration-ms 3000`) over environment
 * variables (`OVERHEAD_DURATION_MS`) over defaults, parsed once with zod. Lists are comma-separated.
 */
import { z } from "zod";
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
  outDir: z.string().min(1).default("bench/results"),
});

export type OverheadConfig = z.infer<typeof OverheadConfigSchema>;

const FIELDS = Object.keys(OverheadConfigSchema.shape) as (keyof OverheadConfig)[];
const kebab = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const envName = (camel: string): string => `OVERHEAD_${camel.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/** The configuration from argv (without node and script) and env; throws a readable error. */
export function loadOverheadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): OverheadConfig {
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
  const parsed = OverheadConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  --${kebab(String(i.path[0] ?? ""))}: ${i.message}`).join("\n");
    throw new Error(`invalid overhead benchmark configuration:\n${problems}`);
  }
  return parsed.data;
}
