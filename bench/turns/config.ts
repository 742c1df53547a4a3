/**
 * bench:turns' configuration: flags (`--conversations 10`) over environment variables
 * (`TURNS_CONVERSATIONS`) over defaults, parsed once with zod.
 */
import { z } from "zod";
import { describeOptionIssues, readBenchOptions } from "../lib/cli-config.js";

export const TurnsConfigSchema = z.object({
  /** Measured conversations, run one after another; each goes from its first turn until the window is full. */
  conversations: z.coerce.number().int().min(1).default(40),
  /** Unrecorded conversations first, so the isolate, D1 and the tokenizers are warm. */
  warmupConversations: z.coerce.number().int().min(0).default(2),
  /** max_tokens of every turn; the simulator always writes exactly this many. */
  maxTokens: z.coerce.number().int().min(1).max(512).default(32),
  /** Sentences in a user message, uniformly from min to max (about 20 tokens each). */
  minSentences: z.coerce.number().int().min(1).default(2),
  maxSentences: z.coerce.number().int().min(1).default(7),
  /** Width of a history bucket in the report, in prompt tokens. */
  bucketTokens: z.coerce.number().int().min(50).default(250),
  /**
   * ENCODE_CACHE_MAX_TOKENS for the gateway: 0 (default) measures every turn as a fresh isolate
   * would see it; "default" leaves the gateway's own cache size.
   */
  encodeCache: z.union([z.literal("default"), z.coerce.number().int().min(0)]).default(0),
  /** Name of this run in turns.json / turns.md (runs with other labels are kept beside it). */
  label: z.string().min(1).default("latest"),
  /** A sentence printed with this run in turns.md: what code it measured, when that is not just its commit. */
  note: z.string().default(""),
  seed: z.coerce.number().int().default(1),
  outDir: z.string().min(1).default("bench/results"),
});

export type TurnsConfig = z.infer<typeof TurnsConfigSchema>;

/** The configuration from argv (without node and script) and env; throws a readable error. */
export function loadTurnsConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): TurnsConfig {
  const { fromEnv, fromFlags } = readBenchOptions({ schema: TurnsConfigSchema, envPrefix: "TURNS", argv, env });
  const parsed = TurnsConfigSchema.safeParse({ ...fromEnv, ...fromFlags });
  if (!parsed.success) throw new Error(`invalid turns benchmark configuration:\n${describeOptionIssues(parsed.error.issues)}`);
  if (parsed.data.maxSentences < parsed.data.minSentences) throw new Error("invalid turns benchmark configuration: --max-sentences is below --min-sentences");
  return parsed.data;
}
