/**
 * Which workers may answer a request, in order: the routing policy applied to this isolate's view
 * of the GPU pool (a snapshot at most a second old plus its own in-flight counts).
 */
import { getConfig } from "../config.js";
import type { Env } from "../env.js";
import { serviceUnavailable } from "../errors.js";
import { routeRequest, type RouteRequest } from "../pool/routing.js";
import { getWorkerViews } from "../pool/snapshot-cache.js";
import type { Backend } from "./vllm-client.js";

/** Ordered candidates for a request, or a 503 saying why there are none. */
export async function chooseCandidates(env: Env, request: RouteRequest, now = Date.now()): Promise<Backend[]> {
  let views;
  try {
    views = await getWorkerViews(env, now);
  } catch (err) {
    console.error("pool unreachable", err);
    throw serviceUnavailable("The GPU pool cannot be reached right now. Try again shortly.", "pool_unavailable", 2);
  }
  const decision = routeRequest(views, request, { options: getConfig(env).routing, now, random: Math.random });
  switch (decision.kind) {
    case "route":
      return decision.candidates.map((w) => ({ id: w.id, url: w.url }));
    case "no-workers":
      throw serviceUnavailable(`No GPU worker serving '${request.model}' is ready. Try again shortly.`, "no_workers", 5);
    case "overloaded":
      throw serviceUnavailable(`Every GPU worker serving '${request.model}' is saturated. Try again shortly.`, "overloaded", decision.retryAfterSeconds);
  }
}
