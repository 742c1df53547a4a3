/**
 * `npm run worker`'s options. The worker's own flags (gateway, pool token, id, …) are read here;
 * every other flag belongs to the simulator and is handed to its parser untouched, so `--reply`,
 * `--fast` or `--itl-ms` mean exactly what they mean to `npm run sim`. With `--vllm-url` there is
 * no simulator, and simulator flags are refused.
 */
import { z } from "zod";

/** A bad flag or value; the message is for a human at a terminal. */
export class WorkerOptionsError extends Error {
  override readonly name = "WorkerOptionsError";
}

const httpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), "must be an http(s) URL")
  .transform((value) => value.replace(/\/+$/, ""));

const WorkerOptionsSchema = z.object({
  gateway: httpUrl,
  poolToken: z.string().min(1),
  id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, "letters, digits, . _ : - only, at most 128")
    .optional(),
  model: z.string().min(1).optional(),
  vllmUrl: httpUrl.optional(),
  publicUrl: httpUrl.optional(),
  heartbeatMs: z.coerce.number().int().min(50).default(1_000),
  drainDeadlineMs: z.coerce.number().int().min(0).default(120_000),
  stopWithStdin: z.boolean().default(false),
});

export type WorkerOptions = z.output<typeof WorkerOptionsSchema> & {
  /** Flags for the simulator (empty with --vllm-url). */
  simArgs: string[];
};

interface FlagSpec {
  key: keyof z.input<typeof WorkerOptionsSchema>;
  /** Environment variable that gives the value when the flag is absent. */
  env?: string;
  help: string;
  boolean?: true;
}

const FLAGS: Readonly<Record<string, FlagSpec>> = {
  gateway: { key: "gateway", env: "ALTIPLANO_URL", help: "gateway base URL, e.g. http://127.0.0.1:8787 (required)" },
  "pool-token": { key: "poolToken", env: "POOL_TOKEN", help: "the gateway's pool token (required; POOL_TOKEN keeps it out of `ps`)" },
  id: { key: "id", env: "AGENT_WORKER_ID", help: "worker id in the pool (default sim-<port> for a simulator, else the host name)" },
  model: { key: "model", help: "model the simulator serves (default vicuna-13b-v1.5); a real vLLM says which it serves" },
  "vllm-url": { key: "vllmUrl", help: "a real vLLM to join instead of starting a simulator" },
  "public-url": { key: "publicUrl", help: "URL the gateway uses to reach this worker (default: the simulator's or --vllm-url)" },
  "heartbeat-ms": { key: "heartbeatMs", help: "poll + heartbeat interval, ms (default 1000)" },
  "drain-deadline-ms": { key: "drainDeadlineMs", help: "on SIGTERM / SIGINT, longest wait for running answers, ms (default 120000)" },
  "stop-with-stdin": { key: "stopWithStdin", boolean: true, help: "stop at once when stdin closes (a supervisor that dies takes its workers along)" },
};

/** `--help`. */
export function workerHelpText(): string {
  const rows = Object.entries(FLAGS).map(([flag, spec]) => {
    const left = `  --${flag}${spec.boolean ? "" : " <value>"}`;
    return `${left.padEnd(30)} ${spec.help}${spec.env ? ` (env ${spec.env})` : ""}`;
  });
  return [
    "altiplano GPU worker: a vLLM simulator and its agent as one program, or with --vllm-url the",
    "agent in front of a real vLLM. It joins the gateway's pool by heartbeat with the pool token.",
    "",
    "usage: npm run worker -- --gateway URL --pool-token TOKEN [--model M] [--id ID] [simulator flags]",
    "       npm run worker -- --gateway URL --pool-token TOKEN --vllm-url http://127.0.0.1:8000 [--public-url URL]",
    "",
    ...rows,
    "",
    "  Any other flag is the simulator's (see `npm run sim -- --help`), e.g. --reply echo --fast.",
    "  SIGTERM / SIGINT: report draining, let running answers finish, exit 0. A second signal exits at once.",
    "  VLLM_API_KEY: vLLM's --api-key, when it has one.",
    "",
  ].join("\n");
}

/** The options from the command line (without node and script) and the environment, or "help". */
export function parseWorkerOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): WorkerOptions | "help" {
  const raw: Record<string, unknown> = {};
  const simArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return "help";
    if (!arg.startsWith("--")) throw new WorkerOptionsError(`unexpected argument "${arg}" (options look like --gateway URL; see --help)`);
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = FLAGS[name];
    if (spec === undefined) {
      // The simulator's flag, with its value when one follows.
      simArgs.push(arg);
      const next = argv[i + 1];
      if (eq === -1 && next !== undefined && !next.startsWith("--")) simArgs.push(argv[++i]!);
      continue;
    }
    if (spec.boolean) {
      raw[spec.key] = eq === -1 ? true : !["false", "0", "no"].includes(arg.slice(eq + 1).toLowerCase());
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq === -1 && value.startsWith("--"))) throw new WorkerOptionsError(`option --${name} needs a value`);
    raw[spec.key] = value;
  }
  for (const spec of Object.values(FLAGS)) {
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (raw[spec.key] === undefined && fromEnv !== undefined && fromEnv !== "") raw[spec.key] = fromEnv;
  }
  const parsed = WorkerOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const entry = Object.entries(FLAGS).find(([, spec]) => spec.key === issue.path[0]);
      const name = entry ? `--${entry[0]}${entry[1].env ? ` / ${entry[1].env}` : ""}` : String(issue.path[0]);
      const message = issue.code === "invalid_type" && issue.input === undefined ? "required" : issue.message;
      return `  ${name}: ${message}`;
    });
    throw new WorkerOptionsError(`invalid worker options:\n${lines.join("\n")}\n(see --help)`);
  }
  if (parsed.data.vllmUrl !== undefined && simArgs.length > 0) {
    throw new WorkerOptionsError(`${simArgs[0]} is a simulator flag; with --vllm-url there is no simulator (see --help)`);
  }
  return { ...parsed.data, simArgs };
}
