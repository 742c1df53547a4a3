/**
 * `npx tsx bench/storage-commit.ts [-- --calls 2000]`
 *
 * What a Durable Object call costs when it writes, against one that does not: the reason the
 * limiter carries settlements on admissions and commits the calls that arrive together in one
 * turn (workers/limits/settle-batching.ts, rate-limiter-do.ts). A minimal SQLite-backed object in
 * workerd (Miniflare) is called sequentially from a Worker, each call doing nothing, writing one
 * row, or writing one row through the synchronous KV API; and once more with all the writes in a
 * single call. Reported: wall time per call and workerd's CPU per call (from /proc, Linux only).
 * Writes bench/results/storage-commit.{json,md}.
 */
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Miniflare } from "miniflare";
import { z } from "zod";
import { describeOptionIssues, readBenchOptions } from "./lib/cli-config.js";
import { fmt, markdownTable } from "./lib/markdown.js";
import { createProgress } from "./lib/progress.js";

const ConfigSchema = z.object({
  calls: z.coerce.number().int().min(100).default(2_000),
  outDir: z.string().min(1).default("bench/results"),
});

const OBJECT_SCRIPT = `
import { DurableObject } from "cloudflare:workers";
export class Store extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS row (id TEXT PRIMARY KEY, a INTEGER, b INTEGER, c TEXT)");
    this.i = 0;
  }
  run(kind, n) {
    for (let k = 0; k < n; k++) {
      const i = this.i++;
      if (kind === "sql") this.ctx.storage.sql.exec("INSERT OR REPLACE INTO row (id, a, b, c) VALUES (?, ?, ?, ?)", "r" + i, i, i + 1, "active");
      else if (kind === "kv") this.ctx.storage.kv.put("r" + i, { a: i, b: i + 1, c: "active" });
    }
    return n;
  }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const kind = url.searchParams.get("kind");
    const n = Number(url.searchParams.get("n"));
    const stub = env.STORE.get(env.STORE.idFromName("bench"));
    if (url.searchParams.get("batched") === "1") await stub.run(kind, n);
    else for (let i = 0; i < n; i++) await stub.run(kind, 1);
    return new Response("ok");
  },
};`;

const CASES = [
  { id: "no-write", kind: "none", batched: false, label: "a call that writes nothing" },
  { id: "sql", kind: "sql", batched: false, label: "a call that writes one SQL row" },
  { id: "kv", kind: "kv", batched: false, label: "a call that writes one KV entry" },
  { id: "sql-batched", kind: "sql", batched: true, label: "one row written inside a single call (per row)" },
] as const;

/** CPU time of a process in ms (user + system), from /proc. */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** workerd processes that are children of this process (Miniflare's runtime). */
function ownWorkerdPids(): number[] {
  const pids: number[] = [];
  for (const entry of readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim().split(/\s+/)) {
    if (entry === "") continue;
    const pid = Number(entry);
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "workerd") pids.push(pid);
    } catch {
      // gone
    }
  }
  return pids;
}

async function main(): Promise<void> {
  const { fromEnv, fromFlags } = readBenchOptions({ schema: ConfigSchema, envPrefix: "STORAGE_COMMIT", argv: process.argv.slice(2), env: process.env });
  const parsed = ConfigSchema.safeParse({ ...fromEnv, ...fromFlags });
  if (!parsed.success) throw new Error(`invalid configuration:\n${describeOptionIssues(parsed.error.issues)}`);
  const config = parsed.data;
  const progress = createProgress({ label: "storage-commit" });
  const mf = new Miniflare({
    modules: true,
    script: OBJECT_SCRIPT,
    compatibilityDate: "2026-04-20",
    durableObjects: { STORE: { className: "Store", useSQLite: true } },
    cf: false,
    host: "127.0.0.1",
    port: 0,
  });
  try {
    const url = await mf.ready;
    const pids = ownWorkerdPids();
    const cpu = () => pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
    const rows: { id: string; label: string; wallUs: number; cpuUs: number }[] = [];
    for (const c of CASES) {
      const query = (n: number) => `${url.origin}/?kind=${c.kind}&n=${n}&batched=${c.batched ? 1 : 0}`;
      await (await fetch(query(100))).text();
      const cpu0 = cpu();
      const t0 = performance.now();
      await (await fetch(query(config.calls))).text();
      const wallMs = performance.now() - t0;
      const row = { id: c.id, label: c.label, wallUs: (wallMs * 1000) / config.calls, cpuUs: ((cpu() - cpu0) * 1000) / config.calls };
      rows.push(row);
      progress.log(`${c.label}: ${fmt(row.wallUs, 1)} µs wall, ${fmt(row.cpuUs, 1)} µs workerd CPU`);
    }
    const outDir = path.resolve(config.outDir);
    await mkdir(outDir, { recursive: true });
    await writeFile(path.join(outDir, "storage-commit.json"), `${JSON.stringify({ generatedAt: new Date().toISOString(), config, rows }, null, 2)}\n`);
    const table = markdownTable<(typeof rows)[number]>(
      [
        { header: "case", cell: (r) => r.label },
        { header: "wall µs per call", align: "right", cell: (r) => fmt(r.wallUs, 1) },
        { header: "workerd CPU µs per call", align: "right", cell: (r) => fmt(r.cpuUs, 1) },
      ],
      rows,
    );
    await writeFile(
      path.join(outDir, "storage-commit.md"),
      `# What a Durable Object write costs (\`bench/storage-commit.ts\`)

Generated at ${new Date().toISOString()}: ${config.calls} sequential calls per case from a Worker to
one SQLite-backed Durable Object in workerd (Miniflare), CPU of the workerd process from /proc
(10 ms resolution, so read the CPU column to about ±${fmt(10_000 / config.calls, 0)} µs).

${table}

A call that writes ends in a storage commit, and its answer waits for it; the row itself costs a
few microseconds when written inside a call. This is why the rate limiter carries settlements on
admissions and commits the calls that arrive together in one turn.
`,
    );
    progress.log(`wrote ${path.relative(process.cwd(), outDir)}/storage-commit.{json,md}`);
  } finally {
    await mf.dispose();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
