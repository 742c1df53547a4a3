/**
 * Operator CLI over the admin pool API:
 *
 *   npm run pool -- status
 *   npm run pool -- drain|cordon|uncordon|remove WORKER_ID
 *
 * Reads ALTIPLANO_URL (gateway base URL, default http://127.0.0.1:8787) and ALTIPLANO_ADMIN_KEY
 * (an admin-role key) from the environment; without ALTIPLANO_ADMIN_KEY, the admin key `npm start`
 * saved in its state directory (ALTIPLANO_STATE_DIR, default .altiplano), so it works right after
 * `npm start`.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { AdminPool, AdminPoolWorker, AdminPoolWorkerDeleted, runtimeLabel } from "../wire/pool-admin.js";

const CliEnv = z.object({
  ALTIPLANO_URL: z
    .string()
    .url()
    .default("http://127.0.0.1:8787")
    .transform((url) => url.replace(/\/+$/, "")),
  ALTIPLANO_ADMIN_KEY: z.string().min(1, "set ALTIPLANO_ADMIN_KEY to an admin-role API key"),
});

/** The admin key `npm start` saved, or undefined when there is none. */
async function savedAdminKey(env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  const file = path.join(env.ALTIPLANO_STATE_DIR || ".altiplano", "admin-key");
  try {
    const key = (await readFile(file, "utf8")).trim();
    return key === "" ? undefined : key;
  } catch {
    return undefined;
  }
}

const USAGE = `usage: npm run pool -- <command>

  status              workers, state, load, last heartbeat, failures; desired replicas per model
  drain ID            stop new requests to a worker; in-flight ones finish
  cordon ID           take a worker out of rotation without asking it to stop
  uncordon ID         undo drain or cordon
  remove ID           forget a worker (a running agent joins again on its next heartbeat)

environment: ALTIPLANO_URL (default http://127.0.0.1:8787), ALTIPLANO_ADMIN_KEY (admin key; default:
the one npm start saved in ALTIPLANO_STATE_DIR, default .altiplano)
`;

const ErrorEnvelope = z.object({ error: z.object({ message: z.string() }) });

/** Lays out rows as aligned columns (numbers right-aligned). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)));
  const numeric = header.map((_title, i) => rows.length > 0 && rows.every((row) => /^-?[\d.]+%?$|^-$/.test(row[i] ?? "")));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

function ageText(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.round(ms / 60_000)}m`;
}

const percent = (fraction: number) => `${Math.round(fraction * 100)}%`;

/** The status screen for one admin pool response. */
export function renderStatus(pool: AdminPool): string {
  const workers = pool.workers.map((w) => [
    w.id,
    w.state,
    w.models.map((m) => m.id).join(","),
    runtimeLabel(w.runtime),
    String(w.load.running),
    String(w.load.waiting),
    percent(w.load.kv_cache_usage),
    percent(w.load.prefix_cache_hit_rate),
    w.load.tokens_per_second.toFixed(0),
    ageText(w.last_heartbeat_age_ms),
    w.cooldown_until > pool.taken_at ? `${w.consecutive_failures} (cooling ${ageText(w.cooldown_until - pool.taken_at)})` : String(w.consecutive_failures),
    w.url,
  ]);
  const models = pool.models.map((m) => [
    m.model,
    String(m.ready_workers),
    String(m.live_workers),
    String(m.running),
    String(m.waiting),
    String(m.desired_replicas),
  ]);
  const parts = [
    workers.length === 0
      ? "no workers in the pool"
      : table(["WORKER", "STATE", "MODELS", "RUNTIME", "RUN", "WAIT", "KV", "HIT", "TOK/S", "BEAT", "FAILS", "URL"], workers),
    "",
    table(["MODEL", "READY", "LIVE", "RUN", "WAIT", "DESIRED"], models),
  ];
  return `${parts.join("\n")}\n`;
}

async function call(env: z.infer<typeof CliEnv>, method: string, path: string): Promise<unknown> {
  const res = await fetch(`${env.ALTIPLANO_URL}${path}`, {
    method,
    headers: { authorization: `Bearer ${env.ALTIPLANO_ADMIN_KEY}` },
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path}: ${res.status} with a body that is not JSON`);
  }
  if (!res.ok) {
    const envelope = ErrorEnvelope.safeParse(json);
    throw new Error(`${method} ${path}: ${res.status} ${envelope.success ? envelope.data.error.message : text.slice(0, 200)}`);
  }
  return json;
}

/** Runs one command; returns the text to print. */
export async function runPoolCli(argv: readonly string[], rawEnv: Readonly<Record<string, string | undefined>>): Promise<string> {
  const [command, id, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") return USAGE;
  const adminKey = rawEnv.ALTIPLANO_ADMIN_KEY || (await savedAdminKey(rawEnv));
  if (adminKey === undefined) {
    throw new Error("no admin key: set ALTIPLANO_ADMIN_KEY to an admin-role API key, or run `npm start` (it saves one in ALTIPLANO_STATE_DIR, default .altiplano)");
  }
  const parsedEnv = CliEnv.safeParse({ ...rawEnv, ALTIPLANO_ADMIN_KEY: adminKey });
  if (!parsedEnv.success) throw new Error(parsedEnv.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "));
  const env = parsedEnv.data;
  if (command === "status") {
    if (id !== undefined) throw new Error(`status takes no arguments\n\n${USAGE}`);
    return renderStatus(AdminPool.parse(await call(env, "GET", "/admin/pool")));
  }
  if (!["drain", "cordon", "uncordon", "remove"].includes(command)) throw new Error(`unknown command '${command}'\n\n${USAGE}`);
  if (id === undefined || rest.length > 0) throw new Error(`${command} takes one worker id\n\n${USAGE}`);
  const workerPath = `/admin/pool/workers/${encodeURIComponent(id)}`;
  if (command === "remove") {
    AdminPoolWorkerDeleted.parse(await call(env, "DELETE", workerPath));
    return `removed ${id}\n`;
  }
  const worker = AdminPoolWorker.parse(await call(env, "POST", `${workerPath}/${command}`));
  return `${worker.id}: ${worker.state}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  runPoolCli(process.argv.slice(2), process.env).then(
    (output) => process.stdout.write(output),
    (err: unknown) => {
      process.stderr.write(`pool: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
