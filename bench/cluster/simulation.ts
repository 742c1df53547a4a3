/**
 * The discrete-event cluster simulation: sessions arrive, each turn goes through a gateway policy
 * to one of N simulated vLLM workers, answers come back, the user thinks, the next turn follows.
 * Virtual time only — nothing sleeps — and every random choice comes from seeded streams, so a run
 * is a pure function of its inputs.
 */
import { DEFAULT_LATENCY } from "../../gpu-backend/sim/latency-model.js";
import type { RoutingOptions } from "../../workers/pool/routing.js";
import { summarize, type Summary } from "../lib/stats.js";
import type { ClusterConfig } from "./config.js";
import { EventQueue } from "./event-queue.js";
import { createPolicy, type GatewayPolicy, type PolicyName } from "./policies.js";
import { deriveSeed, exponential, seededRandom } from "./rng.js";
import { SimWorker, type WorkerHost, type WorkerRequest } from "./sim-worker.js";
import { Conversation, Workload, type SessionSpec } from "./workload.js";

/** Where sessions come from: Poisson arrivals (open loop) or a fixed population (closed loop). */
export type SessionSource =
  | { kind: "open"; sessionsPerS: number; arrivalsUntilMs: number }
  | { kind: "closed"; population: number; stopAtMs: number };

export interface SimulationInput {
  config: ClusterConfig;
  policy: PolicyName;
  source: SessionSource;
  /** Requests arriving in [fromMs, untilMs) are measured; throughput counts completions in it. */
  window: { fromMs: number; untilMs: number };
  routingOptions?: RoutingOptions;
}

export interface SimulationResult {
  policy: PolicyName;
  requestsIssued: number;
  requestsCompleted: number;
  measuredRequests: number;
  ttftMs: Summary;
  /** Output tokens completed per simulated second inside the window. */
  outputTokensPerS: number;
  /** Requests completed per simulated second inside the window. */
  completedPerS: number;
  /** Cached prompt tokens / prompt tokens of measured requests (vLLM's prefix-cache hit rate). */
  prefixCacheHitRate: number;
  /** max / mean over workers of output tokens completed inside the window (1 = even). */
  loadImbalance: number;
  affinity: Record<string, number>;
  simulatedS: number;
  wallMs: number;
}

interface LiveSession {
  spec: SessionSpec;
  conversation: Conversation;
  nextTurn: number;
}

interface InFlight extends WorkerRequest {
  session: LiveSession;
  arrivalMs: number;
  measured: boolean;
}

/** Runs one simulation to the end (open loop: until every session finished; closed: until stop). */
export function simulate(input: SimulationInput): SimulationResult {
  const wallStart = performance.now();
  const { config, source, window } = input;
  const queue = new EventQueue();
  let nowMs = 0;

  const workloadRandom = seededRandom(deriveSeed(config.seed, "workload"));
  const arrivalRandom = seededRandom(deriveSeed(config.seed, "arrivals"));
  const routingRandom = seededRandom(deriveSeed(config.seed, `routing:${input.policy}`));
  const workload = new Workload({ config, random: workloadRandom });

  let issued = 0;
  let completed = 0;
  let activeSessions = 0;
  let arrivalsDone = false;
  const ttfts: number[] = [];
  let promptTokens = 0;
  let cachedTokens = 0;
  let windowOutputTokens = 0;
  let windowCompleted = 0;
  const windowTokensByWorker = new Float64Array(config.workers);
  const inWindow = (t: number): boolean => t >= window.fromMs && t < window.untilMs;

  const host: WorkerHost = {
    schedule: (atMs, fire) => queue.push(atMs, fire),
    onFirstToken: (_worker, request) => {
      const r = request as InFlight;
      if (r.measured) ttfts.push(r.firstTokenMs - r.arrivalMs);
    },
    onComplete: (worker, request, atMs) => {
      const r = request as InFlight;
      completed++;
      if (inWindow(atMs)) {
        windowOutputTokens += r.outputTokens;
        windowCompleted++;
        windowTokensByWorker[worker.index]! += r.outputTokens;
      }
      r.session.conversation.addAnswer(workload.freshTokens(r.outputTokens));
      const session = r.session;
      if (session.nextTurn < session.spec.turns.length) {
        const thinkMs = session.spec.turns[session.nextTurn - 1]!.thinkMs;
        queue.push(atMs + thinkMs, () => sendTurn(session));
      } else {
        activeSessions--;
        if (source.kind === "closed" && atMs < source.stopAtMs) startSession();
      }
    },
  };

  const workers = Array.from(
    { length: config.workers },
    (_, index) => new SimWorker({ index, latency: DEFAULT_LATENCY, maxNumSeqs: config.maxNumSeqs, cacheBlocks: config.cacheBlocks, host }),
  );
  const policy: GatewayPolicy = createPolicy({
    name: input.policy,
    env: { workerCount: config.workers, freshLoad: (i) => workers[i]!.outstanding(), random: routingRandom },
    ourHeartbeatIntervalMs: config.heartbeatIntervalMs,
    fastchatHeartbeatIntervalMs: config.fastchatHeartbeatIntervalS * 1000,
    routingOptions: input.routingOptions,
  });

  function sendTurn(session: LiveSession): void {
    const turn = session.spec.turns[session.nextTurn++]!;
    const prompt = session.conversation.addUserMessage(workload.freshTokens(turn.userTokens), {
      answerTokens: turn.answerTokens,
      contextTokens: config.contextTokens,
    });
    const measured = inWindow(nowMs);
    const request: InFlight = {
      tokens: prompt,
      outputTokens: turn.answerTokens,
      cachedTokens: 0,
      firstTokenMs: NaN,
      session,
      arrivalMs: nowMs,
      measured,
    };
    issued++;
    const chosen = policy.choose({ conversationId: session.spec.id, prefixHash: null }, nowMs);
    workers[chosen]!.submit(request, nowMs);
    if (measured) {
      // Counted at admission time would be the same numbers; the worker fills cachedTokens then.
      pendingHitAccounting.push(request);
      promptTokens += prompt.length;
    }
  }
  // Cache hits are known only once the worker admits the request; summed at the end.
  const pendingHitAccounting: InFlight[] = [];

  function startSession(): void {
    activeSessions++;
    const spec = workload.nextSession();
    sendTurn({ spec, conversation: new Conversation(spec.systemTokens), nextTurn: 0 });
  }

  const running = (): boolean =>
    source.kind === "closed" ? nowMs < source.stopAtMs : !(arrivalsDone && activeSessions === 0);

  if (source.kind === "open") {
    const scheduleArrival = (afterMs: number): void => {
      const atMs = afterMs + exponential(arrivalRandom, 1000 / source.sessionsPerS);
      if (atMs >= source.arrivalsUntilMs) {
        arrivalsDone = true;
        return;
      }
      queue.push(atMs, () => {
        startSession();
        scheduleArrival(atMs);
      });
    };
    scheduleArrival(0);
  } else {
    // Stagger the population's first turns over ten seconds rather than one instant.
    for (let i = 0; i < source.population; i++) queue.push(arrivalRandom() * 10_000, startSession);
  }

  if (Number.isFinite(policy.heartbeatIntervalMs)) {
    const interval = policy.heartbeatIntervalMs;
    for (const w of workers) {
      const beat = (): void => {
        policy.onHeartbeat(w.index, w.load(nowMs), nowMs);
        if (running()) queue.push(nowMs + interval, beat);
      };
      // Agents start independently: each worker's heartbeat has its own phase.
      queue.push(routingRandom() * interval, beat);
    }
  }

  for (;;) {
    const next = queue.pop();
    if (next === undefined) break;
    if (source.kind === "closed" && next.atMs >= source.stopAtMs) break;
    nowMs = next.atMs;
    next.fire();
  }

  for (const r of pendingHitAccounting) cachedTokens += r.cachedTokens;
  const meanWorkerTokens = windowTokensByWorker.reduce((a, b) => a + b, 0) / config.workers;
  const windowS = (window.untilMs - window.fromMs) / 1000;
  return {
    policy: input.policy,
    requestsIssued: issued,
    requestsCompleted: completed,
    measuredRequests: pendingHitAccounting.length,
    ttftMs: summarize(ttfts),
    outputTokensPerS: windowOutputTokens / windowS,
    completedPerS: windowCompleted / windowS,
    prefixCacheHitRate: promptTokens === 0 ? NaN : cachedTokens / promptTokens,
    loadImbalance: meanWorkerTokens === 0 ? NaN : Math.max(...windowTokensByWorker) / meanWorkerTokens,
    affinity: policy.affinityCounts(),
    simulatedS: nowMs / 1000,
    wallMs: performance.now() - wallStart,
  };
}
