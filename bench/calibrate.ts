/**
 * `npm run bench:calibrate [-- --duration-s 80 --load 0.5 ...]`
 *
 * Calibration: the cluster benchmark's workload in real time through the local stack (the gateway
 * in workerd via Miniflare + simulators with realistic latencies), then the same sessions in the
 * cluster simulation, and the difference in TTFT, prefix-cache hit rate and output tokens/s.
 * Writes bench/results/calibrate.{json,md} and its chart; progress on stderr.
 * Every option: bench/calibrate/config.ts (flags or CALIBRATE_* env).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { measureCapacity } from "./cluster/capacity.js";
import { simulate } from "./cluster/simulation.js";
import { createProgress } from "./lib/progress.js";
import { fmt, pct } from "./lib/markdown.js";
import { differences, summarizeReal, type RunSummary } from "./calibrate/compare.js";
import { loadCalibrateConfig, simulationConfig } from "./calibrate/config.js";
import { planSessions } from "./calibrate/plan.js";
import { runSessions, type RealRequest } from "./calibrate/real-run.js";
import { calibrateChart, calibrateMarkdown, CALIBRATE_CHART_FILE, type CalibrateResults } from "./calibrate/report.js";
import { startAltiplano } from "./overhead/altiplano.js";
import { startSimProcess, type Running } from "./overhead/peers.js";

async function main(): Promise<void> {
  const started = performance.now();
  const loadStart = loadavg()[0]!;
  const config = loadCalibrateConfig(process.argv.slice(2), process.env);
  const simConfig = simulationConfig(config);
  const progress = createProgress({ label: "calibrate" });

  const capacity = measureCapacity(simConfig);
  const meanTurns = (simConfig.turnsMin + simConfig.turnsMax) / 2;
  const sessionsPerS = (config.load * capacity.requestsPerS) / meanTurns;
  const sessions = planSessions(simConfig, sessionsPerS);
  progress.log(
    `simulated capacity of ${config.workers} workers: ${fmt(capacity.requestsPerS, 2)} requests/s; at ${pct(config.load, 0)}: ` +
      `${fmt(sessionsPerS, 3)} sessions/s, ${sessions.length} sessions in ${config.durationS} s`,
  );

  const sims: Running[] = [];
  let requests: RealRequest[] = [];
  try {
    for (let i = 0; i < config.workers; i++) {
      sims.push(
        await startSimProcess({
          workerId: `sim-${i + 1}`,
          flags: ["--reply", "lorem", "--reply-length", "max", "--seeding", "prompt", "--max-num-seqs", String(config.maxNumSeqs), "--cache-blocks", String(config.cacheBlocks), "--seed", String(config.seed + i)],
        }),
      );
    }
    const gateway = await startAltiplano({ runtime: "miniflare", workers: sims.map((s, i) => ({ id: `sim-${i + 1}`, url: s.url })) });
    try {
      progress.log(`stack ready (${fmt((performance.now() - started) / 1000, 1)} s): gateway ${gateway.url}, ${sims.length} simulators; playing ${config.durationS} s of sessions…`);
      let done = 0;
      const ticker = setInterval(() => progress.log(`${done} turns finished`), 10_000);
      try {
        requests = await runSessions({
          url: gateway.url,
          key: gateway.userKey,
          sessions,
          durationS: config.durationS,
          drainS: config.drainS,
          seed: config.seed,
          onTurn: () => done++,
        });
      } finally {
        clearInterval(ticker);
      }
    } finally {
      await gateway.stop();
    }
  } finally {
    for (const s of sims) await s.stop();
  }

  const window = { fromMs: config.warmupS * 1000, untilMs: config.durationS * 1000 };
  const real = summarizeReal(requests, window);
  progress.log(`real: ${real.measuredRequests} measured turns, TTFT p50 ${fmt(real.ttftMs.p50, 0)} ms p99 ${fmt(real.ttftMs.p99, 0)} ms, hit ${pct(real.prefixCacheHitRate)}`);

  const sim = simulate({ config: simConfig, policy: "ours", source: { kind: "open", sessionsPerS, arrivalsUntilMs: window.untilMs }, window });
  const simulated: RunSummary = {
    measuredRequests: sim.measuredRequests,
    failedRequests: 0,
    ttftMs: sim.ttftMs,
    prefixCacheHitRate: sim.prefixCacheHitRate,
    outputTokensPerS: sim.outputTokensPerS,
  };
  progress.log(`simulated: ${sim.measuredRequests} measured turns, TTFT p50 ${fmt(sim.ttftMs.p50, 0)} ms p99 ${fmt(sim.ttftMs.p99, 0)} ms, hit ${pct(sim.prefixCacheHitRate)}`);

  const failed = requests.filter((r) => !r.ok);
  const results: CalibrateResults = {
    generatedAt: new Date().toISOString(),
    node: process.versions.node,
    cpus: cpus().length,
    loadAverage: { start: loadStart, end: loadavg()[0]! },
    wallS: (performance.now() - started) / 1000,
    config,
    capacityRps: capacity.requestsPerS,
    sessionsPerS,
    sessions: sessions.length,
    real,
    simulated,
    differences: differences(real, simulated),
    failures: { count: failed.length, examples: [...new Set(failed.map((r) => r.error ?? "unknown"))].slice(0, 3) },
  };
  const outDir = path.resolve(config.outDir);
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, "calibrate.json"), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(path.join(outDir, CALIBRATE_CHART_FILE), calibrateChart(results));
  await writeFile(path.join(outDir, "calibrate.md"), calibrateMarkdown(results));
  progress.log(`wrote ${path.relative(process.cwd(), outDir)}/calibrate.{json,md} and ${CALIBRATE_CHART_FILE} in ${fmt(results.wallS, 0)} s`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
