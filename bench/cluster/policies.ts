/**
 * The gateway-side policies the simulation compares. "ours" is the gateway's real routing module
 * (workers/pool/routing.ts) fed as the gateway feeds it: a heartbeat snapshot per worker once per
 * simulated second plus the requests sent to it since that snapshot. The baselines:
 *
 * - random, round-robin: no load information.
 * - fastchat: FastChat's controller with `--dispatch-method shortest_queue` (the default), read from
 *   lm-sys/FastChat fastchat/serve/controller.py: each worker's queue_length is overwritten only by
 *   its heartbeat (WORKER_HEART_BEAT_INTERVAL, 30 s in fastchat/constants.py; the worker reports
 *   running + waiting), the controller picks argmin(queue_length / speed) (speed = 1; ties to the
 *   first registered worker, as np.argmin does) and adds 1 to the winner's queue_length.
 * - least-loaded: an oracle with the workers' exact running + waiting at the moment of the
 *   decision (ties broken at random) — better information than any real gateway has.
 */
import {
  DEFAULT_ROUTING_OPTIONS,
  routeRequest,
  type RoutingOptions,
  type WorkerView,
} from "../../workers/pool/routing.js";
import type { WorkerLoad } from "./sim-worker.js";

/**
 * The gateway's defaults with admission control off: the baselines cannot shed, so for a like-for-
 * like comparison every request is routed and completes.
 */
export const SIMULATED_ROUTING_OPTIONS: RoutingOptions = { ...DEFAULT_ROUTING_OPTIONS, waitingShedThreshold: Infinity };

export const POLICY_NAMES = ["random", "round-robin", "fastchat", "least-loaded", "ours"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** The model every simulated worker serves. */
export const SIM_MODEL = "vicuna-13b-v1.5";

/** What a policy may look at: fresh loads only through `freshLoad` (the oracle uses it). */
export interface PolicyEnvironment {
  workerCount: number;
  freshLoad: (worker: number) => number;
  random: () => number;
}

export interface SimRouteRequest {
  conversationId: string | null;
  prefixHash: string | null;
}

/** A gateway-side policy: chooses a worker, and hears about heartbeats and its own dispatches. */
export interface GatewayPolicy {
  readonly name: PolicyName;
  /** Heartbeat period this policy's information arrives with, in ms (Infinity = never). */
  readonly heartbeatIntervalMs: number;
  choose(request: SimRouteRequest, nowMs: number): number;
  onHeartbeat(worker: number, load: WorkerLoad, nowMs: number): void;
  /** Affinity outcome counts, for policies that have affinity. */
  affinityCounts(): Record<string, number>;
}

export function createPolicy(o: {
  name: PolicyName;
  env: PolicyEnvironment;
  ourHeartbeatIntervalMs: number;
  fastchatHeartbeatIntervalMs: number;
  routingOptions?: RoutingOptions;
}): GatewayPolicy {
  const { env } = o;
  switch (o.name) {
    case "random":
      return stateless("random", () => Math.floor(env.random() * env.workerCount));
    case "round-robin": {
      let next = 0;
      return stateless("round-robin", () => {
        const chosen = next;
        next = (next + 1) % env.workerCount;
        return chosen;
      });
    }
    case "least-loaded":
      return stateless("least-loaded", () => leastLoaded(env));
    case "fastchat":
      return fastchat(env, o.fastchatHeartbeatIntervalMs);
    case "ours":
      return ours(env, o.ourHeartbeatIntervalMs, o.routingOptions ?? SIMULATED_ROUTING_OPTIONS);
  }
}

function stateless(name: PolicyName, choose: () => number): GatewayPolicy {
  return { name, heartbeatIntervalMs: Infinity, choose, onHeartbeat: () => {}, affinityCounts: () => ({}) };
}

function leastLoaded(env: PolicyEnvironment): number {
  let best = 0;
  let bestLoad = Infinity;
  let ties = 0;
  for (let i = 0; i < env.workerCount; i++) {
    const load = env.freshLoad(i);
    if (load < bestLoad) {
      best = i;
      bestLoad = load;
      ties = 1;
    } else if (load === bestLoad && env.random() * ++ties < 1) {
      best = i; // reservoir sampling: each tied worker equally likely
    }
  }
  return best;
}

function fastchat(env: PolicyEnvironment, heartbeatIntervalMs: number): GatewayPolicy {
  const queueLength = new Float64Array(env.workerCount);
  return {
    name: "fastchat",
    heartbeatIntervalMs,
    choose: () => {
      let best = 0;
      for (let i = 1; i < env.workerCount; i++) if (queueLength[i]! < queueLength[best]!) best = i;
      queueLength[best]!++;
      return best;
    },
    onHeartbeat: (worker, load) => {
      queueLength[worker] = load.running + load.waiting;
    },
    affinityCounts: () => ({}),
  };
}

function ours(env: PolicyEnvironment, heartbeatIntervalMs: number, options: RoutingOptions): GatewayPolicy {
  const views: WorkerView[] = [];
  const indexById = new Map<string, number>();
  for (let i = 0; i < env.workerCount; i++) {
    const id = `sim-worker-${i}`;
    indexById.set(id, i);
    views.push({
      id,
      url: `http://10.0.${i >> 8}.${i & 255}:8000`,
      models: [SIM_MODEL],
      state: "ready",
      running: 0,
      waiting: 0,
      kvCacheUsage: 0,
      inFlight: 0,
      cooldownUntil: 0,
    });
  }
  const counts: Record<string, number> = { pinned: 0, "load-broken": 0, none: 0 };
  return {
    name: "ours",
    heartbeatIntervalMs,
    choose: (request, nowMs) => {
      const decision = routeRequest(views, { model: SIM_MODEL, ...request }, { options, now: nowMs, random: env.random });
      if (decision.kind !== "route") throw new Error(`routing answered ${decision.kind}; the simulation does not shed load`);
      counts[decision.affinity]!++;
      const chosen = decision.candidates[0]!;
      chosen.inFlight++;
      return indexById.get(chosen.id)!;
    },
    onHeartbeat: (worker, load) => {
      const view = views[worker]!;
      view.running = load.running;
      view.waiting = load.waiting;
      view.kvCacheUsage = load.kvCacheUsage;
      view.inFlight = 0; // the snapshot now includes everything sent before it
    },
    affinityCounts: () => ({ ...counts }),
  };
}
