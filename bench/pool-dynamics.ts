/**
 * Pool dynamics on the real local stack (gateway in workerd via Miniflare, or under wrangler dev
 * with ALTIPLANO_RUNTIME=wrangler; local D1 and Durable Objects, 1 s heartbeats, default routing
 * thresholds), with simulated GPU workers that each run a vLLM simulator and an agent. Measures,
 * over several rounds under a steady client load:
 *
 * 1. kill → no traffic: a worker dies (agent and simulator at one instant); the time from the kill
 *    to the last connection the gateway opens on its address (bench/pool-dynamics/analysis.ts
 *    defines it), the failovers in that window and whether any client saw an error;
 * 2. join → first request: a new worker starts; the time to the first request it receives;
 * then once, in a mixed-load run on four workers:
 * 3. the share of a conversation's turns that land on the same worker.
 *
 * Writes bench/results/pool-dynamics.{json,md}.
 *
 *   npx tsx bench/pool-dynamics.ts [--rounds 5] [--rate 20]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { SimConfig } from "../gpu-backend/sim/config.js";
import { defaultRuntime, startStack, type Stack } from "../scripts/stack.js";
import { affinityFigures, errorCounts, isClientError, killFigures, summarize, type AffinityFigures, type KillFigures, type RequestRecord } from "./pool-dynamics/analysis.js";
import { LoadClient, startSteadyLoad } from "./pool-dynamics/load.js";
import { renderReport, type BenchResults, type JoinFigures, type KillRound, type MixedFigures } from "./pool-dynamics/report.js";
import { startTappedWorker, type TappedWorker } from "./pool-dynamics/tapped-worker.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const RESULTS_DIR = path.join(ROOT, "bench", "results");
const HEARTBEAT_INTERVAL_MS = 1_000;
/** Small real latencies: an answer of MAX_TOKENS takes about 100 ms, so some are always in flight. */
const SIM: Partial<SimConfig> = { reply: "lorem", replyLength: "max", seeding: "prompt", fast: false, ttftBaseMs: 10, prefillMsPerToken: 0, itlMs: 5, itlJitterMs: 0 };
const MAX_TOKENS = 16;
const STEADY_WORKERS = 3;
/** Enough clients that each one's pace (one request per clients / rate seconds) stays above a request's latency. */
const STEADY_CONVERSATIONS = 8;
const STEADY_CHAT_CLIENTS = 4;
const WARMUP_MS = 3_000;
/** The kill window lasts at least this long, and until the pool lists the worker as gone. */
const MIN_KILL_WINDOW_MS = 6_000;
const POOL_POLL_MS = 100;
const JOIN_TIMEOUT_MS = 30_000;
const MIXED_WORKERS = 4;
const MIXED_CONVERSATIONS = 30;
const MIXED_TURNS = 8;
const MIXED_CHAT_CLIENTS = 4;
const MIXED_THINK_MAX_MS = 200;

const { values: args } = parseArgs({ options: { rounds: { type: "string", default: "5" }, rate: { type: "string", default: "20" } } });
const ROUNDS = Number(args.rounds);
const RATE_PER_SECOND = Number(args.rate);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || !(RATE_PER_SECOND > 0)) throw new Error("--rounds must be an integer >= 1 and --rate > 0");

const benchStartedAt = Date.now();
const progress = (line: string) => console.log(`[${((Date.now() - benchStartedAt) / 1_000).toFixed(1).padStart(6)} s] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(POOL_POLL_MS);
  }
}

interface Context {
  stack: Stack;
  client: LoadClient;
  live: TappedWorker[];
  all: TappedWorker[];
  nextWorker: number;
}

async function addWorker(ctx: Context): Promise<TappedWorker> {
  const worker = await startTappedWorker({
    id: `gpu-${ctx.nextWorker++}`,
    gatewayUrl: ctx.stack.url,
    poolToken: ctx.stack.poolToken,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    sim: SIM,
  });
  ctx.live.push(worker);
  ctx.all.push(worker);
  return worker;
}

/** One round: a worker dies under load, then a new one joins. */
async function killAndJoin(ctx: Context, round: number): Promise<{ kill: KillRound; join: JoinFigures }> {
  const load = await startSteadyLoad({ client: ctx.client, conversations: STEADY_CONVERSATIONS, chatClients: STEADY_CHAT_CLIENTS, ratePerSecond: RATE_PER_SECOND });
  try {
    await sleep(WARMUP_MS);
    // The victim is the worker carrying the most traffic right now.
    const since = Date.now() - 2_000;
    const busy = (w: TappedWorker) => w.log.requests.filter((t) => t >= since).length;
    const victim = [...ctx.live].sort((a, b) => busy(b) - busy(a))[0]!;
    const victimShare = busy(victim) / Math.max(1, ctx.live.reduce((n, w) => n + busy(w), 0));
    progress(`round ${round}: killing ${victim.id} (${Math.round(victimShare * 100)} % of the last 2 s of traffic)`);
    const { killedAt, cutInFlight } = await victim.kill();
    ctx.live.splice(ctx.live.indexOf(victim), 1);

    const seen: { unhealthyAt?: number; breakerOpenAt?: number; goneAt?: number } = {};
    await waitFor(async () => {
      const record = (await ctx.stack.pool()).workers.find((w) => w.id === victim.id);
      const now = Date.now();
      if (record?.state === "unhealthy") seen.unhealthyAt ??= now;
      if (record && record.cooldown_until > 0) seen.breakerOpenAt ??= now;
      if (record?.state === "gone" || record === undefined) seen.goneAt ??= now;
      return seen.goneAt !== undefined && now - killedAt >= MIN_KILL_WINDOW_MS ? true : undefined;
    }, 60_000, `${victim.id} gone`);
    const windowEnd = Date.now();
    const figures: KillFigures = killFigures({ killedAt, windowEnd, cutInFlight, deadAttempts: victim.log.deadAttempts, requests: load.records });
    const inWindow = load.records.filter((r) => r.startedAt >= killedAt && r.startedAt <= windowEnd);
    const kill: KillRound = {
      ...figures,
      errors: errorCounts(inWindow),
      victim: victim.id,
      victimTrafficShare: victimShare,
      requestRatePerSecond: inWindow.length / ((windowEnd - killedAt) / 1_000),
      unhealthyAfterMs: seen.unhealthyAt === undefined ? null : seen.unhealthyAt - killedAt,
      breakerOpenAfterMs: seen.breakerOpenAt === undefined ? null : seen.breakerOpenAt - killedAt,
      goneAfterMs: seen.goneAt! - killedAt,
    };
    progress(
      `round ${round}: no traffic to ${victim.id} after ${kill.noTrafficAfterMs} ms (${kill.failovers} failovers: ${kill.cutInFlight} cut, ` +
        `${kill.deadAttempts} on the dead address; ${kill.clientErrors} client errors of ${kill.requestsInWindow}); gone in the pool after ${kill.goneAfterMs} ms`,
    );

    const startedAt = Date.now();
    const joiner = await addWorker(ctx);
    let readyAt: number | undefined;
    await waitFor(async () => {
      if (readyAt === undefined) {
        const record = (await ctx.stack.pool()).workers.find((w) => w.id === joiner.id);
        if (record?.state === "ready") readyAt = Date.now();
      }
      return joiner.log.requests.length > 0 && readyAt !== undefined ? true : undefined;
    }, JOIN_TIMEOUT_MS, `first request to ${joiner.id}`);
    const join: JoinFigures = {
      worker: joiner.id,
      firstRequestAfterMs: joiner.log.requests[0]! - startedAt,
      listedReadyAfterMs: readyAt! - startedAt,
    };
    progress(`round ${round}: ${joiner.id} got its first request ${join.firstRequestAfterMs} ms after it started (listed ready within ${join.listedReadyAfterMs} ms)`);
    return { kill, join };
  } finally {
    await load.stop();
    const errors = load.records.filter(isClientError).length;
    if (errors > 0) progress(`round ${round}: ${errors} client errors in ${load.records.length} requests: ${JSON.stringify(errorCounts(load.records))}`);
  }
}

/** What polling /admin/pool saw of some workers: states other than ready, and the oldest heartbeat. */
export interface PoolObservations {
  polls: number;
  /** Per worker: how many polls showed it in each state other than `ready`, or in breaker cooldown. */
  notReady: Record<string, Record<string, number>>;
  maxHeartbeatAgeMs: number;
}

/** Polls /admin/pool until stopped, recording every worker of `ids` that is not plainly ready. */
function watchPool(stack: Stack, ids: readonly string[]): { stop(): Promise<PoolObservations> } {
  const seen: PoolObservations = { polls: 0, notReady: {}, maxHeartbeatAgeMs: 0 };
  let stopping = false;
  const note = (id: string, what: string) => {
    const counts = (seen.notReady[id] ??= {});
    counts[what] = (counts[what] ?? 0) + 1;
  };
  const loop = (async () => {
    while (!stopping) {
      const pool = await stack.pool();
      seen.polls++;
      for (const w of pool.workers) {
        if (!ids.includes(w.id)) continue;
        seen.maxHeartbeatAgeMs = Math.max(seen.maxHeartbeatAgeMs, w.last_heartbeat_age_ms);
        if (w.state !== "ready") note(w.id, w.state);
        if (w.cooldown_until > pool.taken_at) note(w.id, "cooldown");
      }
      await sleep(POOL_POLL_MS);
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      return seen;
    },
  };
}

/** 30 conversations × 8 turns at once, plain chat completions mixed in, four workers. */
async function mixedRun(ctx: Context): Promise<MixedFigures> {
  while (ctx.live.length < MIXED_WORKERS) await addWorker(ctx);
  await ctx.stack.waitForReady(ctx.live.map((w) => w.id), 30_000);
  progress(`mixed run: ${MIXED_CONVERSATIONS} conversations × ${MIXED_TURNS} turns with ${MIXED_CHAT_CLIENTS} plain-chat clients on ${ctx.live.map((w) => w.id).join(", ")}`);
  const ids = await Promise.all(Array.from({ length: MIXED_CONVERSATIONS }, () => ctx.client.createConversation()));
  const workersByConversation = new Map<string, string[]>(ids.map((id) => [id, []]));
  let done = false;
  const records: RequestRecord[] = [];
  const watch = watchPool(ctx.stack, ctx.live.map((w) => w.id));
  const plain = Array.from({ length: MIXED_CHAT_CLIENTS }, async () => {
    while (!done) records.push(await ctx.client.chat());
  });
  await Promise.all(
    ids.map(async (id) => {
      for (let t = 0; t < MIXED_TURNS; t++) {
        await sleep(Math.random() * MIXED_THINK_MAX_MS);
        const r = await ctx.client.turn(id, `turn ${t}: and what about their wool?`);
        records.push(r);
        if (!isClientError(r) && r.worker !== null) workersByConversation.get(id)!.push(r.worker);
      }
    }),
  );
  done = true;
  await Promise.all(plain);
  const pool = await watch.stop();
  const turnsByWorker: Record<string, number> = {};
  for (const workers of workersByConversation.values()) for (const w of workers) turnsByWorker[w] = (turnsByWorker[w] ?? 0) + 1;
  const figures = affinityFigures(workersByConversation);
  const plainRequests = records.filter((r) => r.conversationId === null).length;
  const clientErrors = records.filter(isClientError).length;
  const errors = errorCounts(records);
  const latencyMs = summarize(records.map((r) => r.endedAt - r.startedAt));
  progress(`mixed run: request latency median ${latencyMs.median} ms, max ${latencyMs.max} ms; pool polls: oldest heartbeat ${pool.maxHeartbeatAgeMs} ms, not ready ${JSON.stringify(pool.notReady)}`);
  progress(
    `mixed run: ${(figures.overallShare * 100).toFixed(1)} % of turns on their conversation's worker ` +
      `(least sticky conversation ${(figures.minConversationShare * 100).toFixed(1)} %), ${plainRequests} plain requests, ${clientErrors} client errors ${JSON.stringify(errors)}`,
  );
  return { ...figures, plainRequests, clientErrors, errors, turnsByWorker, latencyMs, pool };
}

async function main(): Promise<void> {
  const runtime = defaultRuntime();
  progress(`starting the stack (${runtime}, local D1, migrations)`);
  const stack = await startStack({
    runtime,
    sims: 0,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    // The benchmark measures the pool, not the key's limits: lift them for its one key.
    vars: {
      LIMIT_REQUESTS_PER_MINUTE: "unlimited",
      LIMIT_TOKENS_PER_MINUTE: "unlimited",
      LIMIT_MAX_CONCURRENT: "unlimited",
      LIMIT_TOKENS_PER_DAY: "unlimited",
    },
  });
  const ctx: Context = { stack, client: new LoadClient(stack.url, stack.userKey, MAX_TOKENS), live: [], all: [], nextWorker: 1 };
  try {
    for (let i = 0; i < STEADY_WORKERS; i++) await addWorker(ctx);
    await stack.waitForReady(ctx.live.map((w) => w.id), 30_000);
    progress(`pool ready: ${ctx.live.map((w) => w.id).join(", ")}; ${ROUNDS} rounds at ~${RATE_PER_SECOND} requests/s`);

    const rounds: { kill: KillRound; join: JoinFigures }[] = [];
    for (let round = 1; round <= ROUNDS; round++) rounds.push(await killAndJoin(ctx, round));
    const affinity = await mixedRun(ctx);

    const results: BenchResults = {
      generatedAt: new Date().toISOString(),
      command: `npx tsx bench/pool-dynamics.ts --rounds ${ROUNDS} --rate ${RATE_PER_SECOND}`,
      environment: { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpus().length },
      setup: {
        runtime,
        heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
        routingThresholds: "defaults",
        sim: SIM,
        maxTokens: MAX_TOKENS,
        steady: { workers: STEADY_WORKERS, conversations: STEADY_CONVERSATIONS, chatClients: STEADY_CHAT_CLIENTS, ratePerSecond: RATE_PER_SECOND, warmupMs: WARMUP_MS, minKillWindowMs: MIN_KILL_WINDOW_MS },
        mixed: { workers: MIXED_WORKERS, conversations: MIXED_CONVERSATIONS, turns: MIXED_TURNS, chatClients: MIXED_CHAT_CLIENTS, thinkMaxMs: MIXED_THINK_MAX_MS },
      },
      kill: {
        rounds: rounds.map((r) => r.kill),
        noTrafficAfterMs: summarize(rounds.map((r) => r.kill.noTrafficAfterMs)),
        failovers: summarize(rounds.map((r) => r.kill.failovers)),
        clientErrors: rounds.reduce((n, r) => n + r.kill.clientErrors, 0),
        goneAfterMs: summarize(rounds.map((r) => r.kill.goneAfterMs)),
      },
      join: { rounds: rounds.map((r) => r.join), firstRequestAfterMs: summarize(rounds.map((r) => r.join.firstRequestAfterMs)) },
      affinity,
    };
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(path.join(RESULTS_DIR, "pool-dynamics.json"), `${JSON.stringify(results, null, 2)}\n`);
    await writeFile(path.join(RESULTS_DIR, "pool-dynamics.md"), renderReport(results));
    progress("wrote bench/results/pool-dynamics.json and .md");
  } finally {
    await Promise.all(ctx.all.map((w) => w.close()));
    await stack.stop();
  }
}

await main();
