/**
 * The agent's one configuration, from flags (`--gateway-url https://…`) and environment variables
 * (`AGENT_GATEWAY_URL`), parsed once with zod. Flags win over the environment. The two secrets —
 * the pool token and vLLM's api key — come from the environment only (`POOL_TOKEN`,
 * `VLLM_API_KEY`), so they never show up in a process listing.
 */
import { hostname } from "node:os";
import { z } from "zod";

const ms = (min: number) => z.coerce.number().int().min(min);
const httpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), "must be an http(s) URL")
  .transform((value) => value.replace(/\/+$/, ""));

/** Worker ids as the pool accepts them (wire/heartbeat.ts). */
const WORKER_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const AgentOptionsSchema = z.object({
  /** Base URL of the gateway; heartbeats go to `<gatewayUrl>/pool/heartbeat`. Required. */
  gatewayUrl: httpUrl.describe("gateway base URL, e.g. https://altiplano.example.workers.dev (required)"),
  /** Base URL of the local vLLM the agent polls (`/health`, `/metrics`, `/v1/models`). */
  vllmUrl: httpUrl.default("http://127.0.0.1:8000").describe("local vLLM base URL (default http://127.0.0.1:8000)"),
  /** URL the gateway should use to reach this vLLM (HTTPS endpoint or Cloudflare Tunnel hostname). */
  publicUrl: httpUrl.optional().describe("URL the gateway uses to reach this vLLM (default: --vllm-url)"),
  /**
   * cloudflared's metrics address (`--metrics`) when it runs a quick tunnel: the agent advertises
   * the tunnel's current `https://….trycloudflare.com` (read from `/quicktunnel`) instead of a fixed URL.
   */
  quickTunnelMetricsUrl: httpUrl
    .optional()
    .describe("advertise the quick tunnel of the cloudflared whose metrics server is here, e.g. http://127.0.0.1:20241 (default: none)"),
  /** This worker's id in the pool. */
  workerId: z.string().regex(WORKER_ID, "letters, digits, . _ : - only, at most 128").optional().describe("worker id in the pool (default: the host name)"),
  /** How often to poll vLLM and heartbeat. */
  pollIntervalMs: ms(50).default(1_000).describe("poll + heartbeat interval, ms (default 1000)"),
  /** Timeout of each HTTP call the agent makes. */
  requestTimeoutMs: ms(50).default(2_000).describe("timeout of each HTTP call, ms (default 2000)"),
  /** Upper bound of the retry delay after failed heartbeats (exponential from the poll interval). */
  maxBackoffMs: ms(50).default(5_000).describe("longest retry delay after failed heartbeats, ms (default 5000)"),
  /** How often to re-read `/v1/models` once known. */
  modelsRefreshMs: ms(100).default(30_000).describe("re-read /v1/models this often, ms (default 30000)"),
  /** After announcing `draining`, wait this long for gateway isolates to stop routing here before judging idleness. */
  drainSettleMs: ms(0).default(3_000).describe("time for gateways to see `draining` before waiting for idle, ms (default 3000)"),
  /** Longest wait for vLLM to finish running requests once draining. */
  drainDeadlineMs: ms(0).default(120_000).describe("longest drain before exiting anyway, ms (default 120000)"),
  /** A file whose appearance means "preempted soon": the agent drains. */
  preemptionFile: z.string().min(1).optional().describe("drain when this file appears (default: none)"),
  /** An HTTP endpoint polled for a preemption notice (cloud metadata); 200 with a body other than FALSE means preempted. */
  preemptionUrl: httpUrl.optional().describe("drain when this URL answers 200 with a body other than FALSE (default: none)"),
  /** Written once the drain has finished, so a sibling container's preStop hook can let vLLM stop. */
  drainedFile: z.string().min(1).optional().describe("write this file when a drain finishes (default: none)"),
  /** Pool token (env POOL_TOKEN only). */
  poolToken: z.string().min(1, "POOL_TOKEN must be set").describe("the gateway's pool token (required)"),
  /** vLLM's --api-key, needed for /v1/models (env VLLM_API_KEY only). */
  vllmApiKey: z.string().min(1).optional().describe("vLLM's --api-key (default: none)"),
});

export type AgentOptions = z.input<typeof AgentOptionsSchema>;

/** The resolved agent configuration. */
export interface AgentConfig extends Omit<z.output<typeof AgentOptionsSchema>, "publicUrl" | "workerId"> {
  /** The fixed URL to advertise; undefined when it is learnt from a quick tunnel (`quickTunnelMetricsUrl`). */
  publicUrl: string | undefined;
  workerId: string;
}

type OptionKey = keyof z.output<typeof AgentOptionsSchema>;

/** Keys that are secrets: environment only, under these names. */
const SECRET_ENV: Partial<Record<OptionKey, string>> = { poolToken: "POOL_TOKEN", vllmApiKey: "VLLM_API_KEY" };

const KEYS = Object.keys(AgentOptionsSchema.shape) as OptionKey[];
const FLAG_KEYS = KEYS.filter((key) => SECRET_ENV[key] === undefined);

/** camelCase → kebab-case flag name. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** camelCase → environment variable name (AGENT_… , or the secret's own name). */
export function envName(key: string): string {
  return SECRET_ENV[key as OptionKey] ?? `AGENT_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** Every environment variable the agent reads. */
export const AGENT_ENV_VARS: readonly string[] = KEYS.map(envName);

/** A bad flag or value; the message is for a human at a terminal. */
export class AgentConfigError extends Error {
  override readonly name = "AgentConfigError";
}

const KEY_BY_FLAG = new Map(FLAG_KEYS.map((key) => [flagName(key), key]));

function parseArgv(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new AgentConfigError(`unexpected argument "${arg}" (see --help)`);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const key = KEY_BY_FLAG.get(name);
    if (key === undefined) {
      const secretKey = KEYS.find((candidate) => SECRET_ENV[candidate] !== undefined && flagName(candidate) === name);
      const hint = secretKey === undefined ? undefined : SECRET_ENV[secretKey];
      throw new AgentConfigError(`unknown option --${name}${hint ? ` (secrets come from the environment: ${hint})` : ""} (see --help)`);
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new AgentConfigError(`option --${name} needs a value`);
    out[key] = value;
  }
  return out;
}

function parseEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of KEYS) {
    const value = env[envName(key)];
    if (value !== undefined && value !== "") out[key] = value;
  }
  return out;
}

/** Validates options (flags/env merged, or an object from a test) into a config. */
export function resolveAgentConfig(options: AgentOptions | Record<string, unknown>): AgentConfig {
  const parsed = AgentOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? "");
      const where = SECRET_ENV[key as OptionKey] ?? `--${flagName(key)} / ${envName(key)}`;
      return `  ${where}: ${issue.message}`;
    });
    throw new AgentConfigError(`invalid agent configuration:\n${lines.join("\n")}`);
  }
  const value = parsed.data;
  if (value.publicUrl !== undefined && value.quickTunnelMetricsUrl !== undefined) {
    throw new AgentConfigError(
      "invalid agent configuration:\n  set one of --public-url / AGENT_PUBLIC_URL (a fixed URL) and --quick-tunnel-metrics-url / AGENT_QUICK_TUNNEL_METRICS_URL (a quick tunnel's URL), not both",
    );
  }
  const workerId = value.workerId ?? defaultWorkerId();
  const publicUrl = value.publicUrl ?? (value.quickTunnelMetricsUrl === undefined ? value.vllmUrl : undefined);
  return { ...value, publicUrl, workerId };
}

/** The config from CLI args (without node and script) and the environment. */
export function parseAgentConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): AgentConfig {
  return resolveAgentConfig({ ...parseEnv(env), ...parseArgv(argv) });
}

function defaultWorkerId(): string {
  const cleaned = hostname().replace(/[^A-Za-z0-9._:-]/g, "-").slice(0, 128);
  return cleaned.length > 0 ? cleaned : "worker";
}

/** `--help`: every option with its flag, environment variable and default. */
export function agentHelpText(): string {
  const rows = KEYS.map((key) => {
    const description = AgentOptionsSchema.shape[key].description ?? "";
    const flag = SECRET_ENV[key] === undefined ? `--${flagName(key)}` : "(env only)";
    return `  ${flag.padEnd(22)} ${envName(key).padEnd(26)} ${description}`;
  });
  return [
    "altiplano GPU agent: polls the local vLLM and heartbeats to the gateway's pool.",
    "",
    "usage: npm run agent -- --gateway-url URL [options]",
    "",
    ...rows,
    "",
    "  POOL_TOKEN (required) is the gateway's pool token; VLLM_API_KEY is vLLM's --api-key.",
    "  SIGTERM / SIGINT, or a preemption notice: report draining, wait for vLLM to go idle, exit.",
    "",
  ].join("\n");
}
