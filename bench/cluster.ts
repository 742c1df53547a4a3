/**
 * `npm run bench:cluster [-- --quick | --workers 32 | --loads 0.5,0.8 | --parallel 1 ...]`
 *
 * Routing policies compared in a discrete-event simulation of a vLLM cluster (virtual time), with
 * the gateway's real routing module as "ours"; plus the wall-clock cost of one routing decision at
 * 8, 64 and 512 workers. Writes bench/results/cluster.{json,md} and the two SVG charts; progress
 * goes to stderr. Every option: bench/cluster/config.ts (flags or CLUSTER_* env).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import path from "node:path";
import { createProgress } from "./lib/progress.js";
import { fmt, pct } from "./lib/markdown.js";
import { defaultParallelism, runInThreads } from "./lib/threads.js";
import { measureCapacity } from "./cluster/capacity.js";
import { loadClusterConfig, type ClusterConfig } from "./cluster/config.js";
import { measureRoutingCost } from "./cluster/routing-cost.js";
import {
  charts,
  headline,
  HIT_RATE_CHART_FILE,
  markdownReport,
  P99_CHART_FILE,
  type ClusterResults,
  type SweepRun,
} from "./cluster/report.js";
import type { SimulationInput, SimulationResult } from "./cluster/simulation.js";

// Not part of ClusterConfig: how to run, not what to simulate.
function takeParallelFlag(argv: string[]): { argv: string[]; parallel: number } {
  const rest: string[] = [];
  let parallel = Number(process.env.CLUSTER_PARALLEL ?? defaultParallelism());
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--parallel") parallel = Number(argv[++i]);
    else if (a.startsWith("--parallel=")) parallel = Number(a.slice("--parallel=".length));
    else rest.push(a);
  }
  if (!Number.isInteger(parallel) || parallel < 1) throw new Error("--parallel must be a positive integer");
  return { argv: rest, parallel };
}

function sweepInputs(config: ClusterConfig, capacityRps: number): { input: SimulationInput; load: number; offeredRps: number; sessionsPerS: number }[] {
  const meanTurns = (config.turnsMin + config.turnsMax) / 2;
  const out = [];
  for (const load of config.loads) {
    const offeredRps = load * capacityRps;
    const sessionsPerS = offeredRps / meanTurns;
    for (const policy of config.policies) {
      out.push({
        load,
        offeredRps,
        sessionsPerS,
        input: {
          config,
          policy,
          source: { kind: "open" as const, sessionsPerS, arrivalsUntilMs: config.durationS * 1000 },
          window: { fromMs: config.warmupS * 1000, untilMs: config.durationS * 1000 },
        },
      });
    }
  }
  return out;
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

async function main(): Promise<void> {
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const { argv, parallel } = takeParallelFlag(process.argv.slice(2));
  const config = loadClusterConfig(argv, process.env);
  const progress = createProgress({ label: "cluster", startedMs: started });
  progress.log(
    `${config.workers} workers, loads ${config.loads.map((l) => `${Math.round(l * 100)}%`).join(" ")}, policies ${config.policies.join(" ")}, ${parallel} thread(s)${config.quick ? ", quick" : ""}`,
  );

  // Alone on the CPU first: the microbenchmark must not share it with simulation threads.
  const routingCost = config.costWorkers.map((workers) => {
    const cost = measureRoutingCost({ workers, iterations: config.costIterations, seed: config.seed });
    progress.log(`routing decision at ${workers} workers: median ${fmt(cost.medianUs, 2)} µs, p99 ${fmt(cost.p99Us, 2)} µs`);
    return cost;
  });

  progress.log(config.capacityRps > 0 ? "capacity given" : "measuring capacity (closed loop, saturated, least-loaded)…");
  const capacity = measureCapacity(config);
  progress.log(`capacity ${fmt(capacity.requestsPerS, 1)} requests/s${capacity.run === null ? "" : ` (${fmt(capacity.run.wallMs / 1000, 1)} s)`}`);

  const inputs = sweepInputs(config, capacity.requestsPerS);
  const sweep = createProgress({ label: "cluster", total: inputs.length, startedMs: started });
  const results = await runInThreads<SimulationInput, SimulationResult>({
    moduleUrl: new URL("./cluster/sim-thread.ts", import.meta.url).href,
    tasks: inputs.map((i) => i.input),
    parallel,
    onResult: (r, _task, index) => {
      const load = inputs[index]!.load;
      sweep.step(
        `${r.policy.padEnd(12)} at ${String(Math.round(load * 100)).padStart(3)}%: TTFT p50 ${fmt(r.ttftMs.p50, 0)} ms p99 ${fmt(r.ttftMs.p99, 0)} ms, ` +
          `hit ${pct(r.prefixCacheHitRate)}, ${r.requestsCompleted}/${r.requestsIssued} requests (${fmt(r.wallMs / 1000, 1)} s)`,
      );
    },
  });
  const runs: SweepRun[] = results.map((r, i) => ({ ...r, load: inputs[i]!.load, offeredRps: inputs[i]!.offeredRps, sessionsPerS: inputs[i]!.sessionsPerS }));

  const { run: _capacityRun, ...capacitySummary } = capacity;
  const all: ClusterResults = {
    generatedAt: new Date().toISOString(),
    node: process.versions.node,
    cpus: cpus().length,
    wallS: (performance.now() - started) / 1000,
    cpuS: cpuSeconds(process.cpuUsage(cpuAtStart)),
    config,
    capacity: capacitySummary,
    routingCost,
    runs,
  };
  const outDir = path.resolve(config.outDir);
  await mkdir(outDir, { recursive: true });
  const { p99Svg, hitRateSvg } = charts(all);
  await writeFile(path.join(outDir, "cluster.json"), `${JSON.stringify(all, null, 2)}\n`);
  await writeFile(path.join(outDir, P99_CHART_FILE), p99Svg);
  await writeFile(path.join(outDir, HIT_RATE_CHART_FILE), hitRateSvg);
  await writeFile(path.join(outDir, "cluster.md"), markdownReport(all));

  const h = headline(runs);
  if (h !== null) {
    progress.log(
      `at ${Math.round(h.load * 100)}% load: p99 TTFT ours ${fmt(h.ours.ttftMs.p99, 0)} ms vs ${h.bestP99.policy} ${fmt(h.bestP99.ttftMs.p99, 0)} ms; ` +
        `hit rate ours ${pct(h.ours.prefixCacheHitRate)} vs ${h.bestHitRate.policy} ${pct(h.bestHitRate.prefixCacheHitRate)}`,
    );
  }
  progress.log(`wrote ${path.relative(process.cwd(), outDir)}/cluster.{json,md}, ${P99_CHART_FILE}, ${HIT_RATE_CHART_FILE} in ${fmt(all.wallS, 0)} s`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
