/**
 * bench:soak's configuration: flags (`--conversations 50`) over environment variables
 * (`SOAK_CONVERSATIONS`) over defaults, parsed once with zod.
 */
import { z } from "zod";
import { describeOptionIssues, readBenchOptions } from "../lib/cli-config.js";

const int = (min: number) => z.coerce.number().int().min(min);

export const SoakConfigSchema = z.object({
  /** Concurrent streamed conversations in the soak. */
  conversations: int(1).default(200),
  /** Length of the soak, seconds. */
  durationS: int(1).default(60),
  /** GPU workers (simulator + agent processes); the matrix kills and faults the first. */
  workers: int(2).default(3),
  /** max_tokens of every turn; the simulators always write this many (reply-length max). */
  maxTokens: int(1).default(48),
  /** Concurrent streams while each fault runs. */
  faultStreams: int(1).default(32),
  /** How long a worker fault (hang, stall, 500s, malformed SSE, disconnects) lasts, seconds. */
  faultSeconds: int(1).default(5),
  /** How long D1 and the limiter fail, seconds ("a few seconds"). */
  storeFaultSeconds: int(1).default(3),
  /** Load before each fault starts, and after it ends, seconds. */
  leadS: int(1).default(3),
  tailS: int(1).default(8),
  /** The gateway's FIRST_TOKEN_TIMEOUT_MS and TOKEN_STALL_TIMEOUT_MS for the run. */
  firstTokenTimeoutMs: int(100).default(3_000),
  tokenStallTimeoutMs: int(100).default(3_000),
  /** A client that receives nothing for this long gives up: the turn counts as broken (a hang). */
  clientIdleTimeoutMs: int(1_000).default(30_000),
  /** Only these faults (comma-separated names, see faults.ts); empty = all. */
  only: z.string().default(""),
  /** Skip the fault matrix (the soak alone). */
  skipFaults: z.stringbool().default(false),
  outDir: z.string().min(1).default("bench/results"),
});

export type SoakConfig = z.infer<typeof SoakConfigSchema>;

/** The configuration from argv (without node and script) and env; throws a readable error. */
export function loadSoakConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): SoakConfig {
  const { fromEnv, fromFlags } = readBenchOptions({ schema: SoakConfigSchema, envPrefix: "SOAK", argv, env, booleanFlags: ["skipFaults"] });
  const parsed = SoakConfigSchema.safeParse({ ...fromEnv, ...fromFlags });
  if (!parsed.success) throw new Error(`invalid soak benchmark configuration:\n${describeOptionIssues(parsed.error.issues)}`);
  return parsed.data;
}
