/**
 * `npm run bench`: every benchmark in sequence, each in its own process (progress streams through
 * on stderr), then bench/results/README.md linking every summary. Extra arguments go to no one;
 * tune each benchmark with its own env variables (OVERHEAD_*, CLUSTER_*, CALIBRATE_*, SOAK_*).
 * Exits non-zero if any benchmark failed, after running the rest.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createProgress } from "./lib/progress.js";
import { fmt } from "./lib/markdown.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS_DIR = path.join(ROOT, "bench", "results");

interface Bench {
  name: string;
  script: string;
  args: readonly string[];
  /** What the summary shows, for the index. */
  summary: string;
}

// Budgeted for a 2-core machine: the whole run stays well under 15 minutes.
const BENCHES: readonly Bench[] = [
  { name: "overhead", script: "bench/overhead.ts", args: [], summary: "gateway overhead: direct vs bare Worker vs Portkey vs Altiplano, Miniflare and wrangler dev; D1/DO calls per request" },
  { name: "cluster", script: "bench/cluster.ts", args: [], summary: "routing policies in a discrete-event cluster simulation: TTFT, hit rate, imbalance vs load; routing decision cost" },
  { name: "calibrate", script: "bench/calibrate.ts", args: [], summary: "the cluster simulation against a real-time run of the same workload through the local stack" },
  { name: "limiter", script: "bench/limiter.ts", args: ["--samples", "1000"], summary: "the rate limiter Durable Object call on the critical path, in workerd" },
  { name: "soak", script: "bench/soak.ts", args: [], summary: "200 streamed conversations for 60 s, then 32 streams through each fault (killed, hung, stalled, 500ing, malformed worker; client disconnects; D1 and limiter down): errors, lost or duplicated messages, leaked slots, memory, recovery" },
];

function runScript(b: Bench): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", b.script, ...b.args], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.once("error", () => resolve(1));
  });
}

async function writeIndex(runs: readonly { bench: Bench; code: number; seconds: number }[], totalS: number): Promise<void> {
  const files = existsSync(RESULTS_DIR) ? (await readdir(RESULTS_DIR)).filter((f) => f.endsWith(".md") && f !== "README.md").sort() : [];
  const known = new Map(BENCHES.map((b) => [`${b.name}.md`, b]));
  const runOf = new Map(runs.map((r) => [`${r.bench.name}.md`, r]));
  const rows = files.map((f) => {
    const run = runOf.get(f);
    const status = run === undefined ? "not part of `npm run bench`" : run.code === 0 ? `ran in ${fmt(run.seconds, 0)} s` : `**failed** (exit ${run.code}); summary is from an earlier run`;
    return `| [${f.replace(/\.md$/, "")}](${f}) | ${known.get(f)?.summary ?? "see the file"} | ${status} |`;
  });
  const missing = runs.filter((r) => !files.includes(`${r.bench.name}.md`)).map((r) => `| ${r.bench.name} | ${r.bench.summary} | **no summary** (exit ${r.code}) |`);
  await writeFile(
    path.join(RESULTS_DIR, "README.md"),
    `# Benchmark results

Written by \`npm run bench\` (${new Date().toISOString()}, ${fmt(totalS, 0)} s in all). What each benchmark does and how
to read it: [../README.md](../README.md). Each summary embeds its SVG charts; raw numbers are in the
JSON file of the same name.

| summary | what | this run |
| --- | --- | --- |
${[...rows, ...missing].join("\n")}
`,
  );
}

async function main(): Promise<void> {
  const progress = createProgress({ label: "bench", total: BENCHES.length });
  const started = performance.now();
  const runs: { bench: Bench; code: number; seconds: number }[] = [];
  for (const b of BENCHES) {
    const t0 = performance.now();
    const code = await runScript(b);
    const seconds = (performance.now() - t0) / 1000;
    runs.push({ bench: b, code, seconds });
    progress.step(`${b.name} ${code === 0 ? "done" : `FAILED (exit ${code})`} in ${fmt(seconds, 0)} s`);
  }
  const totalS = (performance.now() - started) / 1000;
  await writeIndex(runs, totalS);
  progress.log(`all done in ${fmt(totalS, 0)} s; index: bench/results/README.md`);
  if (runs.some((r) => r.code !== 0)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
