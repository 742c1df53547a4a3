/**
 * `npm run bench:profile [-- --concurrency 16 --stream --duration-ms 5000]`
 *
 * Where the gateway's CPU goes under the overhead benchmark's load: the full gateway in workerd
 * (Miniflare, as bench:overhead runs it) with V8's inspector open, the simulator with no latency
 * behind it, and a CPU profile of every isolate workerd runs (the gateway with its Durable
 * Objects, and Miniflare's own D1 and loopback services) taken while the same chat completion is
 * sent closed-loop. Prints each isolate's busy time and its heaviest functions by self and
 * inclusive time; writes the raw .cpuprofile files (open them in Chrome DevTools) and the tables
 * to bench/results/profile/.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import WebSocket from "ws";
import { z } from "zod";
import { freePort } from "../scripts/stack.js";
import { describeOptionIssues, readBenchOptions } from "./lib/cli-config.js";
import { fmt } from "./lib/markdown.js";
import { createProgress } from "./lib/progress.js";
import { createStops } from "./lib/stops.js";
import { startAltiplano } from "./overhead/altiplano.js";
import { runCell } from "./overhead/http-load.js";
import { FAST_SIM_FLAGS, startSimProcess } from "./overhead/peers.js";
import { summarizeProfile, type CpuProfile, type ProfileSummary } from "./profile/cpu-profile.js";

const ConfigSchema = z.object({
  durationMs: z.coerce.number().int().min(500).default(5_000),
  warmupMs: z.coerce.number().int().min(0).default(1_000),
  concurrency: z.coerce.number().int().min(1).max(512).default(16),
  stream: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  maxTokens: z.coerce.number().int().min(1).max(1024).default(32),
  /** Sampling interval of V8's profiler, µs. */
  intervalUs: z.coerce.number().int().min(10).default(100),
  top: z.coerce.number().int().min(1).default(25),
  outDir: z.string().min(1).default("bench/results/profile"),
});

const InspectorTarget = z.object({ id: z.string(), title: z.string(), webSocketDebuggerUrl: z.string() });

/** A minimal Chrome DevTools Protocol session over the inspector's WebSocket. */
class CdpSession {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: WebSocket.RawData) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(msg.error.message));
      else p?.resolve(msg.result);
    });
  }

  static open(url: string): Promise<CdpSession> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once("open", () => resolve(new CdpSession(ws)));
      ws.once("error", reject);
    });
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

function summaryTable(title: string, s: ProfileSummary, top: number): string {
  const busy = s.jsMs + s.programMs + s.gcMs;
  const rows = (sorted: typeof s.functions) =>
    sorted
      .slice(0, top)
      .map((f) => `| ${f.name.replaceAll("|", "\\|")} | ${fmt(f.selfMs, 1)} | ${fmt(f.inclusiveMs, 1)} |`)
      .join("\n");
  const js = s.functions.filter((f) => !f.name.startsWith("("));
  return [
    `### ${title}`,
    "",
    `${fmt(s.totalMs, 0)} ms profiled: busy ${fmt(busy, 0)} ms (JavaScript ${fmt(s.jsMs, 0)}, V8 program ${fmt(s.programMs, 0)}, GC ${fmt(s.gcMs, 0)}), idle ${fmt(s.idleMs, 0)} ms.`,
    "",
    "By self time:",
    "",
    "| function | self ms | inclusive ms |",
    "| --- | ---: | ---: |",
    rows(js),
    "",
    "By inclusive time:",
    "",
    "| function | self ms | inclusive ms |",
    "| --- | ---: | ---: |",
    rows([...js].sort((a, b) => b.inclusiveMs - a.inclusiveMs)),
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const { fromEnv, fromFlags } = readBenchOptions({ schema: ConfigSchema, envPrefix: "PROFILE", argv: process.argv.slice(2), env: process.env, booleanFlags: ["stream"] });
  const parsed = ConfigSchema.safeParse({ ...fromEnv, ...fromFlags });
  if (!parsed.success) throw new Error(`invalid profile configuration:\n${describeOptionIssues(parsed.error.issues)}`);
  const config = parsed.data;
  const progress = createProgress({ label: "profile" });
  const stops = createStops();
  try {
    const sim = await startSimProcess({ workerId: "bench-sim", flags: FAST_SIM_FLAGS });
    stops.push(sim.stop);
    const inspectorPort = await freePort();
    const gateway = await startAltiplano({ runtime: "miniflare", workers: [{ id: "bench-sim", url: sim.url }], inspectorPort });
    stops.push(gateway.stop);
    const targets = z.array(InspectorTarget).parse(await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json());
    progress.log(`gateway at ${gateway.url}; isolates: ${targets.map((t) => t.title || t.id).join(", ")}`);

    const request = {
      url: `${gateway.url}/v1/chat/completions`,
      headers: { authorization: `Bearer ${gateway.userKey}` },
      body: JSON.stringify({
        model: "vicuna-13b-v1.5",
        messages: [{ role: "user", content: "Write one short sentence about llamas." }],
        max_tokens: config.maxTokens,
        stream: config.stream,
      }),
      stream: config.stream,
    };
    await runCell({ request, concurrency: config.concurrency, warmupMs: 0, durationMs: config.warmupMs });

    const sessions = await Promise.all(targets.map(async (t) => ({ target: t, cdp: await CdpSession.open(t.webSocketDebuggerUrl) })));
    for (const { cdp } of sessions) {
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval: config.intervalUs });
      await cdp.send("Profiler.start");
    }
    const run = await runCell({ request, concurrency: config.concurrency, warmupMs: 0, durationMs: config.durationMs });
    const outDir = path.resolve(config.outDir);
    await mkdir(outDir, { recursive: true });
    const mode = `${config.stream ? "stream" : "nonstream"}-c${config.concurrency}`;
    const sections: string[] = [];
    for (const { target, cdp } of sessions) {
      const { profile } = (await cdp.send("Profiler.stop")) as { profile: CpuProfile };
      cdp.close();
      const name = (target.title || target.id).replace(/[^a-zA-Z0-9_.-]+/g, "_");
      await writeFile(path.join(outDir, `${mode}-${name}.cpuprofile`), JSON.stringify(profile));
      const summary = summarizeProfile(profile);
      const busy = summary.jsMs + summary.programMs + summary.gcMs;
      if (busy < 1) continue;
      sections.push(summaryTable(target.title || target.id, summary, config.top));
    }
    const rps = run.samples.length / (run.windowMs / 1000);
    const header = [
      `# Gateway CPU profile (${config.stream ? "streamed" : "non-streamed"}, ${config.concurrency} concurrent)`,
      "",
      `Generated by \`npm run bench:profile\` at ${new Date().toISOString()}: ${run.samples.length} requests in ${fmt(run.windowMs / 1000, 1)} s ` +
        `(${fmt(rps, 0)} req/s, ${run.errors} errors) while profiling (sampling every ${config.intervalUs} µs, which slows the gateway).`,
      "",
    ].join("\n");
    const markdown = `${header}\n${sections.join("\n")}`;
    await writeFile(path.join(outDir, `${mode}.md`), markdown);
    process.stdout.write(markdown);
    progress.log(`wrote ${path.relative(process.cwd(), outDir)}/${mode}.md and one .cpuprofile per isolate`);
  } finally {
    await stops.stopAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
