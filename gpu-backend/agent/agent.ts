/**
 * The agent beside one vLLM: every poll interval it reads vLLM's /health and /metrics (and
 * /v1/models and /version now and then) and posts a heartbeat to the gateway's pool. The URL it
 * advertises is fixed (`publicUrl`) or, behind a Cloudflare quick tunnel, read from cloudflared
 * on the same schedule, so a restarted tunnel's new URL reaches the pool. Heartbeats are
 * idempotent, so after a gateway restart (or a pool that forgot the worker) the next one
 * registers it again; failed heartbeats back off exponentially but never stop.
 *
 * Draining (SIGTERM in main.ts, a preemption notice, or `drainAndStop()`): heartbeats say
 * `draining` at once; after `drainSettleMs` — time for every gateway isolate's snapshot to show
 * it — the agent waits until vLLM has nothing running or waiting, or the deadline passes, then
 * stops.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { Heartbeat, HeartbeatReply, type ServedModel, type WorkerLoad, type WorkerRuntime } from "../../wire/heartbeat.js";
import { isPreemptionNotice, nextDelayMs } from "./backoff.js";
import { resolveAgentConfig, type AgentConfig, type AgentOptions } from "./config.js";
import { LocalVllm } from "./local-vllm.js";
import { computeLoad, type TimedMetrics } from "./metrics-parser.js";
import { readQuickTunnelUrl } from "./quick-tunnel.js";

/** How a drain ended. */
export interface DrainOutcome {
  /** `idle`: vLLM had nothing running or waiting; `deadline`: the drain deadline passed first. */
  reason: "idle" | "deadline";
  waitedMs: number;
}

/** What the agent knows right now (for logs and tests). */
export interface AgentStatus {
  workerId: string;
  draining: boolean;
  heartbeatsAccepted: number;
  consecutiveFailures: number;
  lastReply: HeartbeatReply | null;
  lastLoad: WorkerLoad | null;
  models: ServedModel[] | null;
  /** vLLM and its version, or the simulator; null until `/version` has been read. */
  runtime: WorkerRuntime | null;
  /** The URL heartbeats advertise; null while a quick tunnel's URL is not known yet. */
  publicUrl: string | null;
}

/** A started agent. */
export interface RunningAgent {
  readonly config: AgentConfig;
  status(): AgentStatus;
  /** Reports `draining`, waits for vLLM to go idle (or the deadline), then stops. Idempotent. */
  drainAndStop(): Promise<DrainOutcome>;
  /** Stops at once, without draining. */
  stop(): Promise<void>;
  /** Resolves once the agent has stopped: with the drain outcome, or null after `stop()`. */
  readonly stopped: Promise<DrainOutcome | null>;
}

/** Things tests may replace. */
export interface AgentDeps {
  log?: (line: string) => void;
  random?: () => number;
}

const ZERO_LOAD: WorkerLoad = { running: 0, waiting: 0, kvCacheUsage: 0, prefixCacheHitRate: 0, tokensPerSecond: 0 };

/** Starts polling and heartbeating at once. */
export function startAgent(options: AgentOptions, deps: AgentDeps = {}): RunningAgent {
  const config = resolveAgentConfig(options);
  const log = deps.log ?? ((line: string) => process.stderr.write(`agent ${config.workerId}: ${line}\n`));
  const random = deps.random ?? Math.random;
  const vllm = new LocalVllm({ baseUrl: config.vllmUrl, apiKey: config.vllmApiKey, timeoutMs: config.requestTimeoutMs });

  let stoppedFlag = false;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let drainPromise: Promise<DrainOutcome> | null = null;
  let resolveStopped!: (outcome: DrainOutcome | null) => void;
  const stopped = new Promise<DrainOutcome | null>((resolve) => {
    resolveStopped = resolve;
  });
  const sleepers = new Set<() => void>();

  let draining = false;
  let previousScrape: TimedMetrics | null = null;
  let lastLoad: WorkerLoad | null = null;
  let models: ServedModel[] | null = null;
  let modelsReadAt = Number.NEGATIVE_INFINITY;
  let runtime: WorkerRuntime | null = null;
  let publicUrl: string | null = config.publicUrl ?? null;
  let lastReply: HeartbeatReply | null = null;
  let heartbeatsAccepted = 0;
  let consecutiveFailures = 0;
  let poolIntervalMs = config.pollIntervalMs;
  let lastProblem = "";

  /** Logs a problem once until it changes or clears, so a long outage is one line, not thousands. */
  const problem = (text: string | null) => {
    if (text === null) {
      if (lastProblem !== "") log(`recovered (${lastProblem})`);
      lastProblem = "";
    } else if (text !== lastProblem) {
      log(text);
      lastProblem = text;
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(handle);
        sleepers.delete(done);
        resolve();
      };
      const handle = setTimeout(done, ms);
      sleepers.add(done);
    });

  async function checkPreemption(): Promise<void> {
    if (draining) return;
    if (config.preemptionFile !== undefined && existsSync(config.preemptionFile)) {
      log(`preemption notice: ${config.preemptionFile} appeared; draining`);
      void drainAndStop();
      return;
    }
    if (config.preemptionUrl !== undefined) {
      try {
        const res = await fetch(config.preemptionUrl, {
          headers: { "metadata-flavor": "Google" },
          signal: AbortSignal.timeout(config.requestTimeoutMs),
        });
        if (isPreemptionNotice(res.status, await res.text())) {
          log(`preemption notice from ${config.preemptionUrl}; draining`);
          void drainAndStop();
        }
      } catch {
        // An unreachable metadata endpoint is not a notice.
      }
    }
  }

  async function postHeartbeat(heartbeat: Heartbeat): Promise<HeartbeatReply> {
    const res = await fetch(`${config.gatewayUrl}/pool/heartbeat`, {
      method: "POST",
      headers: { authorization: `Bearer ${config.poolToken}`, "content-type": "application/json" },
      body: JSON.stringify(heartbeat),
      signal: AbortSignal.timeout(config.requestTimeoutMs),
    });
    const text = await res.text();
    if (res.status !== 200) {
      const hint = res.status === 401 ? " (wrong POOL_TOKEN?)" : res.status === 403 ? " (URL not in the pool's allow-list?)" : "";
      throw new Error(`gateway answered ${res.status}${hint}: ${text.slice(0, 200)}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error("gateway heartbeat reply is not JSON");
    }
    return HeartbeatReply.parse(json);
  }

  async function tick(): Promise<void> {
    if (stoppedFlag) return;
    await checkPreemption();
    const healthy = await vllm.isHealthy();
    let metricsOk = false;
    try {
      const scrape: TimedMetrics = { metrics: await vllm.metrics(), atMs: Date.now() };
      lastLoad = computeLoad(previousScrape, scrape, lastLoad);
      previousScrape = scrape;
      metricsOk = true;
    } catch (err) {
      problem(`cannot read vLLM metrics at ${config.vllmUrl}: ${errorText(err)}`);
    }
    if (models === null || publicUrl === null || Date.now() - modelsReadAt >= config.modelsRefreshMs) {
      try {
        models = await vllm.models();
        modelsReadAt = Date.now();
      } catch (err) {
        if (models === null) problem(`cannot read vLLM models at ${config.vllmUrl}: ${errorText(err)}; not joining yet`);
      }
      try {
        runtime = await vllm.runtime();
      } catch (err) {
        // Not a reason to stay out of the pool: the pool shows the runtime as unknown.
        if (runtime === null) problem(`cannot read vLLM version at ${config.vllmUrl}: ${errorText(err)}`);
      }
      if (config.quickTunnelMetricsUrl !== undefined) {
        try {
          const url = await readQuickTunnelUrl(config.quickTunnelMetricsUrl, config.requestTimeoutMs);
          if (url !== publicUrl) log(`advertising the quick tunnel's URL ${url}`);
          publicUrl = url;
        } catch (err) {
          // A cloudflared that restarted has a new URL: keep beating with the last one only until it answers.
          problem(`cannot read the quick tunnel's URL: ${errorText(err)}${publicUrl === null ? "; not joining yet" : ""}`);
        }
      }
    }
    if (models === null || models.length === 0 || publicUrl === null || stoppedFlag) return;

    const heartbeat: Heartbeat = {
      workerId: config.workerId,
      url: publicUrl,
      models,
      state: draining ? "draining" : "ready",
      healthy: healthy && metricsOk,
      load: lastLoad ?? ZERO_LOAD,
      ...(runtime === null ? {} : { runtime }),
    };
    try {
      const reply = await postHeartbeat(heartbeat);
      if (heartbeatsAccepted === 0 || consecutiveFailures > 0) log(`registered with ${config.gatewayUrl} as ${reply.state}`);
      else if (lastReply !== null && lastReply.state !== reply.state) log(`pool state ${lastReply.state} -> ${reply.state}`);
      lastReply = reply;
      poolIntervalMs = reply.heartbeatIntervalMs;
      heartbeatsAccepted++;
      consecutiveFailures = 0;
      if (metricsOk && healthy) problem(null);
    } catch (err) {
      consecutiveFailures++;
      problem(`heartbeat to ${config.gatewayUrl} failed: ${errorText(err)}; retrying with backoff`);
    }
  }

  let lastTickStartedAt = 0;

  /** Runs one tick after any tick in progress (ticks never overlap). */
  function runTick(): Promise<void> {
    chain = chain
      .then(() => {
        lastTickStartedAt = Date.now();
        return tick();
      })
      .catch((err: unknown) => log(`unexpected error: ${errorText(err)}`));
    return chain;
  }

  function schedule(): void {
    clearTimeout(timer);
    if (stoppedFlag) return;
    // Beat at least as often as the pool expects, whatever was configured.
    const pollIntervalMs = Math.min(config.pollIntervalMs, poolIntervalMs);
    const delay = nextDelayMs({ pollIntervalMs, maxBackoffMs: config.maxBackoffMs, consecutiveFailures, random });
    // Beats keep a fixed rate from start to start: a slow poll of vLLM (a busy GPU box) must not
    // stretch the interval the pool measures silence against.
    const elapsed = Date.now() - lastTickStartedAt;
    timer = setTimeout(() => void runTick().then(schedule), consecutiveFailures > 0 ? delay : Math.max(0, delay - elapsed));
  }

  async function isIdle(): Promise<boolean> {
    try {
      const metrics = await vllm.metrics();
      return metrics.running === 0 && metrics.waiting === 0;
    } catch {
      // vLLM no longer answers: nothing it serves can still succeed, so there is nothing to wait for.
      return true;
    }
  }

  async function halt(outcome: DrainOutcome | null): Promise<void> {
    stoppedFlag = true;
    clearTimeout(timer);
    for (const wake of [...sleepers]) wake();
    await chain;
    resolveStopped(outcome);
  }

  function drainAndStop(): Promise<DrainOutcome> {
    drainPromise ??= (async () => {
      const startedAt = Date.now();
      const deadline = startedAt + config.drainDeadlineMs;
      draining = true;
      log("draining");
      await runTick(); // announce `draining` now rather than at the next tick
      schedule();
      const settleUntil = Math.min(deadline, startedAt + config.drainSettleMs);
      while (!stoppedFlag && Date.now() < settleUntil) await sleep(settleUntil - Date.now());
      let reason: DrainOutcome["reason"] = "deadline";
      while (!stoppedFlag) {
        if (await isIdle()) {
          reason = "idle";
          break;
        }
        if (Date.now() >= deadline) break;
        await sleep(Math.min(config.pollIntervalMs, Math.max(1, deadline - Date.now())));
      }
      const outcome = { reason, waitedMs: Date.now() - startedAt };
      log(`drained (${reason}) after ${outcome.waitedMs} ms; stopping`);
      if (config.drainedFile !== undefined) {
        await writeFile(config.drainedFile, `${reason}\n`).catch((err: unknown) => log(`cannot write ${config.drainedFile}: ${errorText(err)}`));
      }
      await halt(outcome);
      return outcome;
    })();
    return drainPromise;
  }

  void runTick().then(schedule);

  return {
    config,
    status: () => ({
      workerId: config.workerId,
      draining,
      heartbeatsAccepted,
      consecutiveFailures,
      lastReply,
      lastLoad,
      models,
      runtime,
      publicUrl,
    }),
    drainAndStop,
    stop: () => halt(null),
    stopped,
  };
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.cause instanceof Error ? `${err.message} (${err.cause.message})` : err.message;
  return String(err);
}
