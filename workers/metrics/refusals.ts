/**
 * Counts requests refused before any generation (429 rate limits and quotas, 503 no workers,
 * overloaded, pool or limiter unreachable) by their error code. Mounted on /v1/*; it reads the
 * error the route threw after the app's error handler has answered, and records in the background.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.js";
import { GatewayError } from "../errors.js";
import { recordRefusal } from "./recorder.js";
import { isRefusalReason } from "./totals.js";

/** Middleware that counts refused requests in `altiplano_requests_refused_total`. */
export const countRefusals = createMiddleware<AppEnv>(async function countRefusals(c, next) {
  await next();
  const err = c.error;
  if (!(err instanceof GatewayError) || !isRefusalReason(err.code)) return;
  let ctx: typeof c.executionCtx;
  try {
    ctx = c.executionCtx;
  } catch {
    // Only a caller without an execution context (app.request in a test) gets here: the refusal
    // it already received must not turn into a 500 for want of somewhere to count it.
    return;
  }
  ctx.waitUntil(recordRefusal(c.env, err.code));
});
