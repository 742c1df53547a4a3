/**
 * `npm run bench:turns [-- --label after --conversations 40 --encode-cache 0]`
 *
 * Does a conversation turn cost more as its history grows? Stored conversations are driven
 * through the full gateway (workerd via Miniflare, one simulator with no latency) until their
 * history fills the model's window, one turn at a time; each turn's time and the CPU of workerd
 * and of the simulator are bucketed by prompt size. Writes bench/results/turns.{json,md} and
 * turns.svg, keeping runs with other labels (a before and an after) beside this one. Every
 * option: bench/turns/config.ts (flags or TURNS_* env). Progress on stderr.
 */
import { execFileSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { fmt } from "./lib/markdown.js";
import { createProgress } from "./lib/progress.js";
import { createStops } from "./lib/stops.js";
import { startAltiplano } from "./overhead/altiplano.js";
import { FAST_SIM_FLAGS, startSimProcess } from "./overhead/peers.js";
import { ROOT } from "./overhead/processes.js";
import { bucketEdges, bucketTurns, goalRatio, type TurnSample } from "./turns/analysis.js";
import { loadTurnsConfig } from "./turns/config.js";
import { closeConnections, runConversation } from "./turns/drive.js";
import { canMeasureCpu, findDescendant, processCpuMs } from "./turns/proc-cpu.js";
import { CHART_FILE, mergeRun, turnsChart, turnsMarkdown, type TurnsResults, type TurnsRun } from "./turns/report.js";

const SIM_ID = "bench-turns-sim";
// wrangler.toml's default model: Vicuna's window and the `vicuna_v1.1` template.
const CONTEXT_LENGTH = 4096;
const SHORT_TOKENS = 100;
const LONG_TOKENS = 3_500;

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadStart = loadavg()[0]!;
  const config = loadTurnsConfig(process.argv.slice(2), process.env);
  const progress = createProgress({ label: "turns" });
  const commit = git(["rev-parse", "HEAD"]) || "unknown";
  // Only the gateway's code matters to these numbers; other changes in the tree do not make the run "dirty".
  const dirty = git(["status", "--porcelain", "--", "workers", "migrations"]) !== "";

  const stops = createStops();

  try {
    const sim = await startSimProcess({ workerId: SIM_ID, flags: FAST_SIM_FLAGS });
    stops.push(sim.stop);
    const vars: Record<string, string> = config.encodeCache === "default" ? {} : { ENCODE_CACHE_MAX_TOKENS: String(config.encodeCache) };
    const gateway = await startAltiplano({ runtime: "miniflare", workers: [{ id: SIM_ID, url: sim.url }], vars });
    stops.push(gateway.stop);
    progress.log(`gateway at ${gateway.url}, simulator at ${sim.url}; encode cache ${config.encodeCache === "default" ? "default" : config.encodeCache}`);

    let cpu: { workerd: () => number; sim: () => number } | null = null;
    if (canMeasureCpu()) {
      const workerdPid = findDescendant("workerd", (p) => p.comm === "workerd");
      const simPid = findDescendant("simulator", (p) => p.cmdline.includes("sim/main.ts") && p.cmdline.includes(SIM_ID));
      cpu = { workerd: () => processCpuMs(workerdPid), sim: () => processCpuMs(simPid) };
      progress.log(`measuring CPU of workerd (pid ${workerdPid}) and the simulator (pid ${simPid})`);
    }

    const g = { url: gateway.url, key: gateway.userKey };
    const common = { seed: config.seed, maxTokens: config.maxTokens, minSentences: config.minSentences, maxSentences: config.maxSentences, cpu };
    for (let i = 0; i < config.warmupConversations; i++) await runConversation(g, { ...common, index: -1 - i });
    progress.log(`${config.warmupConversations} warm-up conversations done`);

    const turns: TurnSample[] = [];
    const step = createProgress({ label: "turns", total: config.conversations, startedMs: started });
    for (let i = 0; i < config.conversations; i++) {
      const samples = await runConversation(g, { ...common, index: i });
      turns.push(...samples);
      const last = samples[samples.length - 1]!;
      step.step(`${samples.length} turns to ${last.promptTokens} prompt tokens; first ${fmt(samples[0]!.totalMs)} ms, last ${fmt(last.totalMs)} ms`);
    }
    closeConnections();
    await stops.stopAll();

    const buckets = bucketTurns(turns, bucketEdges(config.bucketTokens, CONTEXT_LENGTH));
    const run: TurnsRun = {
      label: config.label,
      date: new Date().toISOString(),
      commit,
      dirty,
      config,
      machine: { cpus: cpus().length, node: process.versions.node, loadStart, loadEnd: loadavg()[0]! },
      durationS: (performance.now() - started) / 1000,
      cpuMeasured: cpu !== null,
      ratio: goalRatio(buckets, SHORT_TOKENS, LONG_TOKENS),
      buckets,
      turns,
    };
    const outDir = path.resolve(config.outDir);
    await mkdir(outDir, { recursive: true });
    const jsonFile = path.join(outDir, "turns.json");
    const previous = await readFile(jsonFile, "utf8").then((text) => JSON.parse(text) as TurnsResults, () => null);
    const results = mergeRun(previous, run);
    // One line per run's turn would still be thousands of lines: compact, as a data file.
    await writeFile(jsonFile, `${JSON.stringify(results)}\n`);
    await writeFile(path.join(outDir, CHART_FILE), turnsChart(results));
    await writeFile(path.join(outDir, "turns.md"), turnsMarkdown(results));
    progress.log(
      `${run.label}: turn @ ~${SHORT_TOKENS} vs ~${LONG_TOKENS} prompt tokens: time p50 ×${fmt(run.ratio.totalP50, 2)}, workerd CPU ×${fmt(run.ratio.workerdCpu, 2)}; ` +
        `wrote ${path.relative(process.cwd(), outDir)}/turns.{json,md} and ${CHART_FILE}`,
    );
  } finally {
    closeConnections();
    await stops.stopAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
