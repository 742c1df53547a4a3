/**
 * Benchmark of the limiter call on the request's critical path, run in workerd (Miniflare) against
 * the real RateLimiter Durable Object with SQLite storage. A small bench Worker, bundled here with
 * esbuild, times each call from the calling isolate (as the gateway would see it) and returns the
 * samples; this script summarizes them into bench/results/limiter.{json,md}.
 *
 * Local workerd runs the caller and the object in one process, so these numbers are the limiter's
 * own cost (RPC + decision + SQLite write), not the network hop to the object's colo in production.
 *
 *   npx tsx bench/limiter.ts [--samples 2000] [--concurrency 100]
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { ledgerCost } from "./limiter-ledger-cost.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const RESULTS_DIR = path.join(ROOT, "bench", "results");

const { values: args } = parseArgs({
  options: { samples: { type: "string", default: "2000" }, concurrency: { type: "string", default: "100" } },
});
const SAMPLES = Number(args.samples);
const CONCURRENCY = Number(args.concurrency);
if (!Number.isInteger(SAMPLES) || SAMPLES < 10 || !Number.isInteger(CONCURRENCY) || CONCURRENCY < 1) {
  throw new Error("--samples must be an integer ≥ 10 and --concurrency ≥ 1");
}
/** Steady request rates of one key for the ledger CPU table. */
const LEDGER_RATES = [10, 150, 1_000];

// The bench Worker. /call does ONE admission (timed in the isolate, whose clock advances only
// across I/O and in whole milliseconds) and settles it after responding; /noop is the same HTTP
// hop without the limiter, the baseline subtracted from Node-side round trips (sub-ms resolution).
// /burst fires n simultaneous admissions at one key and returns each one's in-isolate latency.
const BENCH_WORKER = `
import { admitRequest } from "./workers/limits/client.ts";
export { RateLimiter } from "./workers/limits/rate-limiter-do.ts";

const HIGH = { requestsPerMinute: 1e9, tokensPerMinute: 1e12, maxConcurrent: 1e9, tokensPerDay: 1e12 };
const LIMITS = { ...HIGH, endUser: HIGH };

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const keyId = url.searchParams.get("key");
    const endUser = url.searchParams.get("user");
    if (url.pathname === "/noop") return Response.json({});
    if (url.pathname === "/call") {
      const t0 = performance.now();
      const a = await admitRequest(env, { keyId, endUser, limits: LIMITS, estimatedTokens: 600, requestId: crypto.randomUUID() });
      const admitMs = performance.now() - t0;
      if (!a.ok) return new Response(a.error.message, { status: 500 });
      ctx.waitUntil(a.settle(420));
      return Response.json({ admitMs });
    }
    if (url.pathname === "/burst") {
      const n = Number(url.searchParams.get("n"));
      const admissions = [];
      const times = await Promise.all(Array.from({ length: n }, async (_, i) => {
        const t0 = performance.now();
        admissions.push(await admitRequest(env, { keyId, limits: LIMITS, estimatedTokens: 600, requestId: "b" + i }));
        return performance.now() - t0;
      }));
      await Promise.all(admissions.map((a) => (a.ok ? a.settle(420) : undefined)));
      return Response.json({ times });
    }
    return new Response("not found", { status: 404 });
  },
};
`;

interface Summary {
  samples: number;
  medianMs: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number): number => {
    const pos = (sorted.length - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
  };
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    samples: sorted.length,
    medianMs: round(q(0.5)),
    p90Ms: round(q(0.9)),
    p99Ms: round(q(0.99)),
    maxMs: round(sorted.at(-1)!),
    meanMs: round(sorted.reduce((s, v) => s + v, 0) / sorted.length),
  };
}

async function bundle(): Promise<string> {
  const out = await build({
    stdin: { contents: BENCH_WORKER, resolveDir: ROOT, sourcefile: "bench-limiter-worker.js", loader: "js" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0]!.text;
}

async function main(): Promise<void> {
  const script = await bundle();
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: "2026-04-20",
    durableObjects: { RATE_LIMITER: { className: "RateLimiter", useSQLite: true } },
  });
  try {
    const get = async (pathAndQuery: string): Promise<unknown> => {
      const res = await mf.dispatchFetch(`http://bench.local${pathAndQuery}`);
      if (!res.ok) throw new Error(`bench worker failed: ${res.status} ${await res.text()}`);
      return res.json();
    };
    /** n sequential calls, each bracketed in Node; returns round trips and in-isolate times. */
    const sequential = async (pathAndQuery: string, n: number) => {
      const rttMs: number[] = [];
      const isolateMs: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = process.hrtime.bigint();
        // Our own bench Worker's reply; only a number is read from it.
        const body = (await get(pathAndQuery.replace("{i}", String(i % 50)))) as { admitMs?: number };
        rttMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (typeof body.admitMs === "number") isolateMs.push(body.admitMs);
      }
      return { rttMs, isolateMs };
    };
    const key = `bench-${Date.now()}`;
    const keyCall = `/call?key=${key}`;
    const userCall = `/call?key=${key}&user=user-{i}`;
    process.stderr.write("warming up (creates the key's and 50 end users' objects)…\n");
    await sequential(keyCall, 500);
    await sequential(userCall, 500);
    await sequential("/noop", 200);
    process.stderr.write(`${SAMPLES} calls per scenario, interleaved with the baseline…\n`);
    const noop = { rttMs: [] as number[] };
    const keyOnly = { rttMs: [] as number[], isolateMs: [] as number[] };
    const withUser = { rttMs: [] as number[], isolateMs: [] as number[] };
    const CHUNK = 50;
    for (let done = 0; done < SAMPLES; done += CHUNK) {
      const n = Math.min(CHUNK, SAMPLES - done);
      noop.rttMs.push(...(await sequential("/noop", n)).rttMs);
      const k = await sequential(keyCall, n);
      keyOnly.rttMs.push(...k.rttMs);
      keyOnly.isolateMs.push(...k.isolateMs);
      const u = await sequential(userCall, n);
      withUser.rttMs.push(...u.rttMs);
      withUser.isolateMs.push(...u.isolateMs);
    }
    const waves = Math.max(1, Math.round(SAMPLES / CONCURRENCY));
    process.stderr.write(`burst: ${waves} waves of ${CONCURRENCY} simultaneous admissions on one key…\n`);
    const burstMs: number[] = [];
    for (let w = 0; w < waves; w++) {
      // Our own bench Worker's reply: { times: number[] }.
      const body = (await get(`/burst?key=${key}-burst&n=${CONCURRENCY}`)) as { times: number[] };
      burstMs.push(...body.times);
    }

    const base = summarize(noop.rttMs);
    const added = (s: Summary): { addedMedianMs: number; addedP99Ms: number } => ({
      addedMedianMs: Math.round((s.medianMs - base.medianMs) * 1000) / 1000,
      addedP99Ms: Math.round((s.p99Ms - base.p99Ms) * 1000) / 1000,
    });
    // One unrecorded pass first, so the table measures optimized code rather than the JIT warming up.
    ledgerCost(LEDGER_RATES[1]!);
    const ledgerCpu = LEDGER_RATES.map((rate) => ledgerCost(rate));
    const keyRtt = summarize(keyOnly.rttMs);
    const userRtt = summarize(withUser.rttMs);
    const results = {
      generatedAt: new Date().toISOString(),
      environment: {
        runtime: "workerd via Miniflare (local; caller and Durable Object in one process)",
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        samplesPerScenario: SAMPLES,
      },
      baselineRoundTrip: { description: "Node → Worker → Node without the limiter", ...base },
      keyOnly: {
        description: "admitRequest, key limiter only (1 Durable Object RPC)",
        roundTrip: keyRtt,
        ...added(keyRtt),
        inIsolate: summarize(keyOnly.isolateMs),
      },
      keyAndEndUser: {
        description: "admitRequest with an end user (2 sequential Durable Object RPCs)",
        roundTrip: userRtt,
        ...added(userRtt),
        inIsolate: summarize(withUser.isolateMs),
      },
      burst: {
        description: `${CONCURRENCY} simultaneous admissions on one key, in-isolate latency (queueing in the single-threaded object)`,
        ...summarize(burstMs),
      },
      ledgerCpu,
    };
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(path.join(RESULTS_DIR, "limiter.json"), `${JSON.stringify(results, null, 2)}\n`);
    const f = (v: number) => v.toFixed(3);
    const md = `# Limiter call latency

Generated by \`npx tsx bench/limiter.ts --samples ${SAMPLES} --concurrency ${CONCURRENCY}\` at ${results.generatedAt}
(${results.environment.platform}, Node ${results.environment.node}; a shared 2-core machine, so tails are noisy).
Runtime: ${results.environment.runtime}: this is the limiter's own cost (RPC, decision, SQLite
write); in production add the hop from the gateway's colo to the object's.

**Added latency of admission** = Node-measured round trip of one request that runs
\`admitRequest\` minus the same round trip without it (medians and p99s subtracted separately;
sub-millisecond resolution). The in-isolate column is the time the gateway's own clock sees
around the call; workerd advances that clock only in whole milliseconds, at I/O.

| scenario | added median ms | added p99 ms | round trip median / p99 ms | in-isolate median / p99 ms |
| --- | ---: | ---: | ---: | ---: |
| key only (1 DO RPC) | ${f(results.keyOnly.addedMedianMs)} | ${f(results.keyOnly.addedP99Ms)} | ${f(keyRtt.medianMs)} / ${f(keyRtt.p99Ms)} | ${f(results.keyOnly.inIsolate.medianMs)} / ${f(results.keyOnly.inIsolate.p99Ms)} |
| key + end user (2 sequential RPCs) | ${f(results.keyAndEndUser.addedMedianMs)} | ${f(results.keyAndEndUser.addedP99Ms)} | ${f(userRtt.medianMs)} / ${f(userRtt.p99Ms)} | ${f(results.keyAndEndUser.inIsolate.medianMs)} / ${f(results.keyAndEndUser.inIsolate.p99Ms)} |
| baseline (no limiter) | – | – | ${f(base.medianMs)} / ${f(base.p99Ms)} | – |

Under a burst of ${CONCURRENCY} simultaneous admissions to ONE key (the object serializes them;
this is the price of exactness): in-isolate median ${f(results.burst.medianMs)} ms, p99 ${f(results.burst.p99Ms)} ms, max ${f(results.burst.maxMs)} ms.

Critical path: one limiter RPC before the GPU for a key, two (sequential: end user, then key)
when the request names an end user with limits. Settlement runs after the response (waitUntil).

**Decision CPU as a key gets busier** (\`bench/limiter-ledger-cost.ts\`: the object's in-memory
ledger alone, in Node, after a minute of steady load; the log holds one entry per request of the
last minute, found by binary search, with running leases kept apart):

| key's load (requests/s) | entries in the minute log | µs per admit + settle |
| ---: | ---: | ---: |
${results.ledgerCpu.map((c) => `| ${c.requestsPerSecond} | ${c.reservations} | ${c.meanUsPerPair.toFixed(1)} |`).join("\n")}
`;
    await writeFile(path.join(RESULTS_DIR, "limiter.md"), md);
    process.stdout.write(md);
  } finally {
    await mf.dispose();
  }
}

await main();
