/**
 * The simulator's one configuration. Every field is also a CLI flag (`--kebab-case`) and an
 * environment variable (`SIM_UPPER_SNAKE`); flags win over env, env over defaults. Parsed once,
 * failing fast with a readable message.
 */
import { z } from "zod";
import { TEMPLATE_IDS } from "../../workers/prompt/index.js";
import { DEFAULT_LATENCY } from "./latency-model.js";

export const REPLY_MODES = ["echo-prompt", "echo", "lorem"] as const;
export type ReplyMode = (typeof REPLY_MODES)[number];

/** `sharegpt`: a lorem reply stops at a drawn natural length (reply-length.ts); `max`: it runs to max_tokens. */
export const REPLY_LENGTHS = ["sharegpt", "max"] as const;
/** `request`: each sampled request (temperature > 0) gets its own seed; `prompt`: the same prompt gives the same lorem text. */
export const SEEDINGS = ["request", "prompt"] as const;
export type ReplyLength = (typeof REPLY_LENGTHS)[number];
export type Seeding = (typeof SEEDINGS)[number];

export const FAILURE_MODES = ["refuse", "http-500", "http-503", "hang", "close-after", "stall-after", "malformed-sse"] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];

/** "true"/"false"/"1"/"0"/"yes"/"no" from env or `--flag=value`; a bare `--flag` arrives as true. */
const flag = z.preprocess((v) => {
  if (typeof v !== "string") return v;
  const s = v.trim().toLowerCase();
  if (["true", "1", "yes", "on", ""].includes(s)) return true;
  if (["false", "0", "no", "off"].includes(s)) return false;
  return v;
}, z.boolean());

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const nonNegative = () => z.coerce.number().finite().min(0);

export const SimConfigSchema = z.object({
  // Interface to listen on.
  host: z.string().min(1).default("127.0.0.1").describe("interface to listen on (default 127.0.0.1)"),
  // TCP port; 0 = any free port (the chosen one is printed and returned).
  port: int(0, 65535).default(0).describe("TCP port; 0 = any free port (default 0)"),
  // Optional second port serving only /admin/* and /health, reachable while `refuse` is active.
  adminPort: int(0, 65535).optional().describe("extra port for /admin/* that stays open during `refuse`; 0 = any free (default: none)"),
  // Sent as `x-worker-id` on every response; default `sim-<port>`.
  workerId: z.string().min(1).optional().describe("x-worker-id header value (default sim-<port>)"),
  // Served model name, as vLLM's --served-model-name.
  model: z.string().min(1).default("vicuna-13b-v1.5").describe("served model name (default vicuna-13b-v1.5)"),
  // Context window in tokens (prompt + completion), as vLLM's --max-model-len.
  maxModelLen: int(2).default(4096).describe("context window in tokens, prompt + completion (default 4096)"),
  // When set, /v1/* and /admin/* require `Authorization: Bearer <key>`, as vLLM's --api-key.
  apiKey: z.string().min(1).optional().describe("require Authorization: Bearer <key> on /v1/* and /admin/* (default: none)"),
  // What the simulated model answers.
  reply: z.enum(REPLY_MODES).default("lorem").describe("echo-prompt | echo | lorem (default lorem)"),
  // How long lorem replies run: a ShareGPT-like drawn length (reply-length.ts), or `max` = always
  // max_tokens, which tests and benchmarks that need fixed lengths pin.
  replyLength: z
    .enum(REPLY_LENGTHS)
    .default("sharegpt")
    .describe("sharegpt | max: lorem replies stop at a ShareGPT-like length, or always run to max_tokens (default sharegpt)"),
  // Whether a request with temperature > 0 gets its own lorem seed (as a sampling model), or the
  // text is fixed by the prompt whatever the temperature.
  seeding: z
    .enum(SEEDINGS)
    .default("request")
    .describe("request | prompt: a new seed per request with temperature > 0 (its `seed` field if given), or lorem text fixed by the prompt (default request)"),
  // Chat template (and with it the tokenizer) of the served model, as the gateway's MODELS entry names it.
  template: z
    .enum(TEMPLATE_IDS)
    .default("vicuna_v1.1")
    .describe(`chat template of the served model, which also picks its tokenizer: ${TEMPLATE_IDS.join(" | ")} (default vicuna_v1.1)`),
  // No latency at all (still asynchronous: tokens are yielded one event-loop turn apart).
  fast: flag.default(false).describe("no simulated latency (default false)"),
  // Seeds the jitter and the lorem text, so runs repeat exactly.
  seed: int(0, 0xffff_ffff).default(0).describe("random seed for jitter and lorem text (default 0)"),
  // Latency model, see latency-model.ts; defaults are roughly vicuna-13b on one H100.
  ttftBaseMs: nonNegative().default(DEFAULT_LATENCY.ttftBaseMs).describe(`fixed prefill cost, ms (default ${DEFAULT_LATENCY.ttftBaseMs})`),
  prefillMsPerToken: nonNegative().default(DEFAULT_LATENCY.prefillMsPerToken).describe(`prefill cost per uncached prompt token, ms (default ${DEFAULT_LATENCY.prefillMsPerToken})`),
  itlMs: nonNegative().default(DEFAULT_LATENCY.itlMs).describe(`inter-token latency at batch size 1, ms (default ${DEFAULT_LATENCY.itlMs})`),
  itlJitterMs: nonNegative().default(DEFAULT_LATENCY.itlJitterMs).describe(`uniform inter-token jitter +- ms (default ${DEFAULT_LATENCY.itlJitterMs})`),
  batchSlowdownPerSeq: nonNegative().default(DEFAULT_LATENCY.batchSlowdownPerSeq).describe(`fractional slowdown per extra running sequence (default ${DEFAULT_LATENCY.batchSlowdownPerSeq})`),
  // Running batch size limit, as vLLM's --max-num-seqs; further requests wait FIFO.
  maxNumSeqs: int(1).default(256).describe("max sequences in the running batch; others wait FIFO (default 256)"),
  // KV/prefix cache capacity in 16-token blocks.
  cacheBlocks: int(0).default(4096).describe("KV / prefix cache capacity in 16-token blocks (default 4096)"),
  // Failure injected from the start (see failures.ts); also settable at run time via POST /admin/failure.
  failure: z.enum(FAILURE_MODES).optional().describe(`failure at start: ${FAILURE_MODES.join(" | ")} (default: none)`),
  failureAfterTokens: int(0).optional().describe("close-after / stall-after / malformed-sse: tokens sent before the fault (default 1)"),
  failureCount: int(1).optional().describe("number of requests the failure affects (default: all)"),
  failureDurationMs: int(1).optional().describe("refuse: reopen after this many ms (default: until cleared)"),
});

export type SimConfig = z.infer<typeof SimConfigSchema>;
export type SimConfigKey = keyof SimConfig;

/** Raised for a bad flag or value; the message is meant for a human at a terminal. */
export class SimConfigError extends Error {
  override readonly name = "SimConfigError";
}

const KEYS = Object.keys(SimConfigSchema.shape) as SimConfigKey[];
const BOOLEAN_KEYS = new Set<SimConfigKey>(["fast"]);

/** camelCase -> kebab-case, as used for flags. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** camelCase -> SIM_UPPER_SNAKE, as used for environment variables. */
export function envName(key: string): string {
  return `SIM_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

const KEY_BY_FLAG = new Map(KEYS.map((k) => [flagName(k), k]));

function parseArgv(argv: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new SimConfigError(`unexpected argument "${arg}" (options look like --port 8001; see --help)`);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const key = KEY_BY_FLAG.get(name);
    if (key === undefined) throw new SimConfigError(`unknown option --${name} (see --help)`);
    if (eq !== -1) {
      out[key] = arg.slice(eq + 1);
    } else if (BOOLEAN_KEYS.has(key)) {
      out[key] = true;
    } else {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith("--")) throw new SimConfigError(`option --${name} needs a value`);
      out[key] = value;
      i++;
    }
  }
  return out;
}

function parseEnv(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of KEYS) {
    const value = env[envName(key)];
    if (value !== undefined && value !== "") out[key] = value;
  }
  return out;
}

/** Validates an already-merged object (used by startSimulator for programmatic overrides). */
export function resolveSimConfig(input: Record<string, unknown>): SimConfig {
  const parsed = SimConfigSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? "");
      return `  --${flagName(key)} / ${envName(key)}: ${issue.message}`;
    });
    throw new SimConfigError(`invalid simulator configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

/** The config from CLI args (without the node/script prefix) and the environment. */
export function parseSimConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): SimConfig {
  return resolveSimConfig({ ...parseEnv(env), ...parseArgv(argv) });
}

/** `--help` text listing every option with its flag, env variable and default. */
export function simHelpText(): string {
  const rows = KEYS.map((key) => {
    const left = `  --${flagName(key)}${BOOLEAN_KEYS.has(key) ? "" : " <value>"}`;
    const description = SimConfigSchema.shape[key].description ?? "";
    return `${left.padEnd(36)} ${description}\n${"".padEnd(37)}env ${envName(key)}`;
  });
  return [
    "vLLM simulator: speaks vLLM's OpenAI-compatible HTTP API; it is not a model.",
    "",
    "usage: npm run sim -- [options]",
    "",
    "options:",
    ...rows,
    "  --help                             show this text",
    "",
  ].join("\n");
}
