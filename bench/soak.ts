/**
 * `npm run bench:soak [-- --conversations 200 --duration-s 60 --only "D1 failing"]`
 *
 * Reliability figures through the local stack (gateway in workerd via Miniflare, local D1 and
 * Durable Objects; GPU workers as simulator + agent processes; all on loopback):
 * - soak: 200 concurrent streamed conversations for 60 s — errors, messages lost or stored twice,
 *   leaked limiter slots, workerd and simulator memory at start and end, TTFT p50/p99;
 * - fault matrix: 32 streams while each fault of bench/soak/faults.ts runs — streams completed
 *   whole, clean errors, messages lost or duplicated, leaked slots, recovery time.
 * Writes bench/results/soak.{json,md}, soak.svg and soak-memory.svg. Every option: bench/soak/config.ts (flags or
 * SOAK_* env). Progress on stderr.
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { z } from "zod";
import { startStack, type Stack } from "../scripts/stack.js";
import { createProgress } from "./lib/progress.js";
import { createStops } from "./lib/stops.js";
import { ROOT } from "./overhead/processes.js";
import { canMeasureCpu, descendants, processCpuMs } from "./turns/proc-cpu.js";
import { memoryDelta } from "./soak/analysis.js";
import { loadSoakConfig, type SoakConfig } from "./soak/config.js";
import { FAULTS, type FaultContext } from "./soak/faults.js";
import { rssBytes, startGpuWorker, type GpuWorker } from "./soak/gpu-workers.js";
import { runPhase } from "./soak/phase.js";
import { CHART_FILE, MEMORY_CHART_FILE, memoryChart, soakChart, soakMarkdown, type PhaseResult, type SoakRun } from "./soak/report.js";

const HEARTBEAT_MS = 1_000;
// Fixed-length lorem replies (every turn writes max_tokens) at the simulator's default latency.
const SIM_FLAGS = ["--reply", "lorem", "--reply-length", "max"];
/** How often the soak samples resident memory for its chart. */
const MEMORY_SAMPLE_MS = 2_000;
/** Memory at "start" is read this far into the soak. */
const MEMORY_WARMUP_S = 10;
const CreatedKey = z.object({ key: z.string() });

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

async function createLimitedKey(stack: Stack, name: string, maxConcurrent: number): Promise<string> {
  const res = await fetch(`${stack.url}/admin/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.adminKey}`, "content-type": "application/json" },
    // Only concurrency is limited (and probed afterwards); rates and quotas must not refuse the load.
    body: JSON.stringify({ name, role: "user", limits: { max_concurrent: maxConcurrent, requests_per_minute: null, tokens_per_minute: null, tokens_per_day: null } }),
  });
  if (res.status !== 201) throw new Error(`creating key ${name}: ${res.status} ${await res.text()}`);
  return CreatedKey.parse(await res.json()).key;
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadStart = loadavg()[0]!;
  const config: SoakConfig = loadSoakConfig(process.argv.slice(2), process.env);
  const progress = createProgress({ label: "soak" });
  const stops = createStops();
  try {
    const stack = await startStack({
      sims: 0,
      heartbeatIntervalMs: HEARTBEAT_MS,
      runtime: "miniflare",
      vars: {
        FAULT_INJECTION: "on",
        FIRST_TOKEN_TIMEOUT_MS: String(config.firstTokenTimeoutMs),
        TOKEN_STALL_TIMEOUT_MS: String(config.tokenStallTimeoutMs),
      },
    });
    stops.push(stack.stop);
    const workers: GpuWorker[] = [];
    const startWorker = async (id: string): Promise<GpuWorker> => {
      const w = await startGpuWorker({ id, gatewayUrl: stack.url, poolToken: stack.poolToken, heartbeatMs: HEARTBEAT_MS, simFlags: SIM_FLAGS });
      stops.push(w.stop);
      return w;
    };
    for (let i = 1; i <= config.workers; i++) workers.push(await startWorker(`gpu-${i}`));
    // Says why, when the pool does not get whole again: each worker's state and its processes' last words.
    const waitForWholePool = async (): Promise<void> => {
      try {
        await stack.waitForReady(workers.map((w) => w.id), 60_000);
      } catch (error) {
        const pool = await stack.pool().catch(() => null);
        const states = pool?.workers.map((w) => `${w.id}: ${w.state} (heartbeat ${w.last_heartbeat_age_ms} ms ago, breaker until ${w.cooldown_until})`).join("; ");
        const words = workers.map((w) => `${w.id} agent exit ${w.agent.process.exitCode ?? w.agent.process.signalCode ?? "running"}: ${w.agent.output().slice(-600)}`).join("\n");
        throw new Error(`${error instanceof Error ? error.message : String(error)}\npool: ${states}\n${words}`);
      }
    };
    await waitForWholePool();
    progress.log(`gateway at ${stack.url}; ${workers.length} workers ready (${workers.map((w) => `${w.id} sim pid ${w.sim.process.pid}`).join(", ")})`);
    const workerdPids = descendants().filter((p) => p.comm === "workerd").map((p) => p.pid);
    const gatewayRss = (): number => workerdPids.reduce((s, pid) => s + rssBytes(pid), 0);
    const simRss = (): number => workers.reduce((s, w) => s + (w.sim.process.pid === undefined ? 0 : rssBytes(w.sim.process.pid)), 0);
    let keys = 0;
    const common = { url: stack.url, maxTokens: config.maxTokens, idleTimeoutMs: config.clientIdleTimeoutMs, log: (l: string) => progress.log(l) };
    const createKey = (maxConcurrent: number) => createLimitedKey(stack, `soak ${++keys}`, maxConcurrent);

    let soak: SoakRun["soak"];
    {
      progress.log(`soak: ${config.conversations} streams for ${config.durationS} s`);
      const memory = { gatewayStart: 0, gatewayEnd: 0, simStart: 0, simEnd: 0 };
      const measureCpu = canMeasureCpu();
      const cpuNow = () => ({
        wall: performance.now(),
        gateway: measureCpu ? workerdPids.reduce((s, pid) => s + processCpuMs(pid), 0) : 0,
        simulators: measureCpu ? workers.reduce((s, w) => s + (w.sim.process.pid === undefined ? 0 : processCpuMs(w.sim.process.pid)), 0) : 0,
        client: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
      });
      let cpuStart = cpuNow();
      let cpuCores: SoakRun["soak"]["cpuCores"] = null;
      const memorySeries: SoakRun["soak"]["memorySeries"] = [];
      let sampler: NodeJS.Timeout | null = null;
      const MB = 2 ** 20;
      const phase = await runPhase({
        ...common,
        name: "soak",
        fault: "none",
        createKey,
        streams: config.conversations,
        leadS: config.durationS,
        faultS: null,
        tailS: 0,
        // "Start" is after a warm-up: the first seconds grow workerd's heap by design (JIT, caches).
        onLoadStart: () => {
          const t0 = performance.now();
          const sample = () => void memorySeries.push({ atS: (performance.now() - t0) / 1000, gatewayMb: gatewayRss() / MB, simulatorsMb: simRss() / MB });
          sample();
          sampler = setInterval(sample, MEMORY_SAMPLE_MS);
          setTimeout(() => {
            cpuStart = cpuNow();
            memory.gatewayStart = gatewayRss();
            memory.simStart = simRss();
          }, 1000 * MEMORY_WARMUP_S);
        },
        onLoadEnd: () => {
          if (sampler) clearInterval(sampler);
          memory.gatewayEnd = gatewayRss();
          memory.simEnd = simRss();
          const end = cpuNow();
          const wall = end.wall - cpuStart.wall;
          if (measureCpu) cpuCores = { gateway: (end.gateway - cpuStart.gateway) / wall, simulators: (end.simulators - cpuStart.simulators) / wall, client: (end.client - cpuStart.client) / wall };
        },
      });
      soak = { ...phase, gatewayMemory: memoryDelta(memory.gatewayStart, memory.gatewayEnd), simulatorMemory: memoryDelta(memory.simStart, memory.simEnd), cpuCores, memorySeries };
    }

    const faults: PhaseResult[] = [];
    if (!config.skipFaults) {
      const only = new Set(config.only.split(",").map((s) => s.trim()).filter(Boolean));
      let disconnecting = false;
      const ctx: FaultContext = {
        get victim() {
          return workers[0]!;
        },
        gatewayFault: async (target, ms) => {
          const res = await fetch(`${stack.url}/admin/faults`, {
            method: "POST",
            headers: { authorization: `Bearer ${stack.adminKey}`, "content-type": "application/json" },
            body: JSON.stringify({ target, duration_ms: ms }),
          });
          if (res.status !== 200) throw new Error(`POST /admin/faults: ${res.status} ${await res.text()}`);
        },
        replaceVictim: async () => {
          const old = workers[0]!;
          old.kill();
          workers[0] = await startWorker(old.id);
          await stack.waitForReady([old.id], 60_000);
        },
        setDisconnecting: (on) => void (disconnecting = on),
      };
      for (const fault of FAULTS.filter((f) => only.size === 0 || only.has(f.name))) {
        // Each fault starts from a whole pool.
        await waitForWholePool();
        const seconds = fault.seconds(config);
        faults.push(
          await runPhase({
            ...common,
            name: fault.name,
            fault: fault.description,
            createKey,
            streams: config.faultStreams,
            leadS: config.leadS,
            faultS: seconds,
            tailS: config.tailS,
            ...(fault.settleMs === undefined ? {} : { settleMs: fault.settleMs }),
            startFault: () => fault.start(ctx, seconds * 1000),
            endFault: () => fault.end(ctx),
            disconnectNow: () => disconnecting && Math.random() < 0.5,
          }),
        );
        await fault.restore?.(ctx);
      }
    }
    await stops.stopAll();

    const run: SoakRun = {
      date: new Date().toISOString(),
      commit: git(["rev-parse", "HEAD"]) || "unknown",
      machine: { cpus: cpus().length, node: process.versions.node, loadStart, loadEnd: loadavg()[0]! },
      config: { ...config },
      soak,
      faults,
      durationS: (performance.now() - started) / 1000,
    };
    const outDir = path.resolve(config.outDir);
    await mkdir(outDir, { recursive: true });
    await writeFile(path.join(outDir, "soak.json"), `${JSON.stringify(run, null, 2)}\n`);
    await writeFile(path.join(outDir, CHART_FILE), soakChart(run));
    await writeFile(path.join(outDir, MEMORY_CHART_FILE), memoryChart(run.soak));
    await writeFile(path.join(outDir, "soak.md"), soakMarkdown(run));
    progress.log(`wrote ${path.relative(process.cwd(), outDir)}/soak.{json,md} and ${CHART_FILE}`);
  } finally {
    await stops.stopAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
