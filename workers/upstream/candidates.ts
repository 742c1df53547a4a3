/**
 * Which workers may answer a request, in order: the routing policy applied to the workers this
 * isolate knows. Until the dynamic pool is wired in, these are the static backends from
 * configuration, seen as always-ready workers with no reported load.
 */
import type { GatewayConfig } from "../config.js";
import { serviceUnavailable } from "../errors.js";
import { DEFAULT_ROUTING_OPTIONS, routeRequest, type RouteRequest, type WorkerView } from "../pool/routing.js";
import type { Backend } from "./vllm-client.js";

function staticViews(config: GatewayConfig): WorkerView[] {
  return config.staticBackends.map((b) => ({
    id: b.id,
    url: b.url,
    models: b.models,
    state: "ready",
    running: 0,
    waiting: 0,
    kvCacheUsage: 0,
    inFlight: 0,
    cooldownUntil: 0,
  }));
}

/** Ordered candidates for a request, or a 503 saying why there are none. */
export function chooseCandidates(config: GatewayConfig, request: RouteRequest, now = Date.now()): Backend[] {
  const decision = routeRequest(staticViews(config), request, { options: DEFAULT_ROUTING_OPTIONS, now, random: Math.random });
  switch (decision.kind) {
    case "route":
      return decision.candidates.map((w) => ({ id: w.id, url: w.url }));
    case "no-workers":
      throw serviceUnavailable(`No GPU worker serving '${request.model}' is ready. Try again shortly.`, "no_workers", 5);
    case "overloaded":
      throw serviceUnavailable(`Every GPU worker serving '${request.model}' is saturated. Try again shortly.`, "overloaded", decision.retryAfterSeconds);
  }
}
