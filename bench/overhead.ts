/**
 * `npm run bench:overhead [-- --duration-ms 3000 --concurrency 1,16,64 --paths direct,portkey,...]`
 *
 * Gateway overhead: the same chat completion, in one run, straight to a no-latency simulator,
 * through a bare pass-through Worker, through the Portkey gateway and through the full Altiplano
 * gateway (workerd via Miniflare, and both Workers under `wrangler dev` beside them), at several
 * concurrencies, streamed and not; then D1 and Durable Object calls per request, counted inside
 * workerd. Writes bench/results/overhead.{json,md} and its SVG charts; progress on stderr.
 * Every option: bench/overhead/config.ts (flags or OVERHEAD_* env).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { createProgress } from "./lib/progress.js";
import { createStops } from "./lib/stops.js";
import { fmt } from "./lib/markdown.js";
import { overheads, PATH_LABELS, summarizeCell, type CellResult, type PathId } from "./overhead/analysis.js";
import { createKey, startAltiplano } from "./overhead/altiplano.js";
import { measureKeyScaling, type KeyCell } from "./overhead/keys.js";
import { measureCallCounts, type CallCounts } from "./overhead/call-counts.js";
import { loadOverheadConfig } from "./overhead/config.js";
import { runCell } from "./overhead/http-load.js";
import { FAST_SIM_FLAGS, portkeyHeaders, startPassthroughMiniflare, startPassthroughWranglerDev, startPortkey, startSimProcess } from "./overhead/peers.js";
import { ROOT } from "./overhead/processes.js";
import { CHART_FILES, COMPARISONS, overheadCharts, overheadMarkdown, type OverheadResults } from "./overhead/report.js";

const SIM_ID = "bench-sim";
const CHAT_PATH = "/v1/chat/completions";
const COUNTING_ENTRY = path.join(ROOT, "bench", "overhead", "counting-entry.js");

interface Target {
  url: string;
  headers: Record<string, string>;
  stop(): Promise<void>;
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadStart = loadavg()[0]!;
  const config = loadOverheadConfig(process.argv.slice(2), process.env);
  const progress = createProgress({ label: "overhead" });
  const body = (stream: boolean) => ({
    model: "vicuna-13b-v1.5",
    messages: [{ role: "user", content: "Write one short sentence about llamas." }],
    max_tokens: config.maxTokens,
    stream,
  });

  const stops = createStops();

  try {
    const sim = await startSimProcess({ workerId: SIM_ID, flags: FAST_SIM_FLAGS });
    stops.push(sim.stop);
    progress.log(`simulator (no latency) at ${sim.url}; starting ${config.paths.join(", ")}…`);

    const starters: Record<PathId, () => Promise<Target>> = {
      direct: async () => ({ url: sim.url, headers: {}, stop: async () => undefined }),
      "bare-miniflare": async () => ({ ...(await startPassthroughMiniflare(sim.url)), headers: {} }),
      "bare-wrangler": async () => ({ ...(await startPassthroughWranglerDev(sim.url)), headers: {} }),
      portkey: async () => ({ ...(await startPortkey()), headers: portkeyHeaders(`${sim.url}/v1`) }),
      "altiplano-miniflare": async () => {
        const g = await startAltiplano({ runtime: "miniflare", workers: [{ id: SIM_ID, url: sim.url }] });
        altiplano = g;
        return { url: g.url, headers: { authorization: `Bearer ${g.userKey}` }, stop: g.stop };
      },
      "altiplano-wrangler": async () => {
        const g = await startAltiplano({ runtime: "wrangler-dev", workers: [{ id: SIM_ID, url: sim.url }] });
        return { url: g.url, headers: { authorization: `Bearer ${g.userKey}` }, stop: g.stop };
      },
    };
    const targets = new Map<PathId, Target>();
    let altiplano: Awaited<ReturnType<typeof startAltiplano>> | null = null;
    // One at a time: on two cores, parallel wrangler starts only slow each other down.
    for (const id of config.paths) {
      const t0 = performance.now();
      const target = await starters[id]();
      stops.push(target.stop);
      targets.set(id, target);
      progress.log(`${PATH_LABELS[id]} ready at ${target.url} (${fmt((performance.now() - t0) / 1000, 1)} s)`);
    }

    const cells: CellResult[] = [];
    const total = 2 * config.concurrency.length * config.paths.length;
    const step = createProgress({ label: "overhead", total });
    // Paths interleaved within each (mode, concurrency), so drift in machine load hits all alike.
    for (const stream of [true, false]) {
      for (const concurrency of config.concurrency) {
        for (const id of config.paths) {
          const target = targets.get(id)!;
          const run = await runCell({
            request: { url: `${target.url}${CHAT_PATH}`, headers: target.headers, body: JSON.stringify(body(stream)), stream },
            concurrency,
            warmupMs: config.warmupMs,
            durationMs: config.durationMs,
          });
          const result = summarizeCell({ path: id, concurrency, stream }, run);
          cells.push(result);
          step.step(
            `${(stream ? "stream" : "non-stream").padEnd(10)} c=${String(concurrency).padStart(2)} ${PATH_LABELS[id].padEnd(27)} ` +
              `${fmt(result.throughputRps, 0).padStart(5)} req/s, ${stream ? "TTFT" : "TTFB"} p50 ${fmt(result.ttftMs.p50, 2)} p99 ${fmt(result.ttftMs.p99, 2)} ms, ` +
              `total p50 ${fmt(result.totalMs.p50, 2)} ms${result.errors > 0 ? `, ${result.errors} errors (${result.errorExamples[0] ?? ""})` : ""}`,
          );
        }
      }
    }
    let keyScaling: KeyCell[] | null = null;
    const gateway = altiplano as Awaited<ReturnType<typeof startAltiplano>> | null;
    if (gateway !== null) {
      progress.log(`one hot key against many at ${config.keysConcurrency} concurrent…`);
      keyScaling = await measureKeyScaling({
        url: gateway.url,
        userKey: gateway.userKey,
        botKey: gateway.botKey,
        newUserKey: () => createKey(gateway.url, gateway.adminKey, "user"),
        body,
        concurrency: config.keysConcurrency,
        warmupMs: config.warmupMs,
        durationMs: config.durationMs,
        log: progress.log,
      });
    }
    // The timed gateways are done; the counting one runs alone with a fresh simulator.
    await stops.stopAll();

    let callCounts: CallCounts | null = null;
    if (config.paths.includes("altiplano-miniflare")) {
      progress.log("counting D1 and Durable Object calls (gateway with the counting entry)…");
      const sim2 = await startSimProcess({ workerId: SIM_ID, flags: FAST_SIM_FLAGS });
      stops.push(sim2.stop);
      const counting = await startAltiplano({ runtime: "miniflare", workers: [{ id: SIM_ID, url: sim2.url }], entry: COUNTING_ENTRY });
      stops.push(counting.stop);
      callCounts = await measureCallCounts({ gateway: counting, samples: config.countSamples, maxTokens: config.maxTokens, log: progress.log });
    }
    await stops.stopAll();

    const results: OverheadResults = {
      generatedAt: new Date().toISOString(),
      node: process.versions.node,
      cpus: cpus().length,
      loadAverage: { start: loadStart, end: loadavg()[0]! },
      wallS: (performance.now() - started) / 1000,
      config,
      requestBody: { stream: body(true), nonStream: body(false) },
      cells,
      overheads: COMPARISONS.flatMap((c) => overheads(cells, c)),
      callCounts,
      keyScaling,
    };
    const outDir = path.resolve(config.outDir);
    await mkdir(outDir, { recursive: true });
    await writeFile(path.join(outDir, "overhead.json"), `${JSON.stringify(results, null, 2)}\n`);
    for (const [file, svg] of Object.entries(overheadCharts(results))) await writeFile(path.join(outDir, file), svg);
    await writeFile(path.join(outDir, "overhead.md"), overheadMarkdown(results));

    const h = (stream: boolean) => results.overheads.find((o) => o.path === "altiplano-miniflare" && o.baseline === "bare-miniflare" && o.concurrency === 16 && o.stream === stream);
    const s = h(true);
    const n = h(false);
    if (s && n) {
      progress.log(
        `Altiplano over the bare Worker at 16 concurrent: stream TTFT p50 +${fmt(s.ttftP50.ms, 2)} ms p99 +${fmt(s.ttftP99.ms, 2)} ms; ` +
          `non-stream total p50 +${fmt(n.totalP50.ms, 2)} ms p99 +${fmt(n.totalP99.ms, 2)} ms`,
      );
    }
    progress.log(`wrote ${path.relative(process.cwd(), outDir)}/overhead.{json,md} and ${Object.keys(CHART_FILES).length} charts in ${fmt(results.wallS, 0)} s`);
  } finally {
    await stops.stopAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
