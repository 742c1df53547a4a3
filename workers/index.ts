/**
 * The Altiplano gateway Worker: a table of routes, one error handler, and the Durable Object
 * exports wrangler binds.
 */
import { Hono } from "hono";
import type { Env } from "./env.js";
import { GatewayError, toGatewayError } from "./errors.js";
import { adminPoolRoutes } from "./routes/admin-pool.js";
import { poolRoutes } from "./routes/pool.js";

export { GpuPool } from "./pool/pool-do.js";

const app = new Hono<{ Bindings: Env }>();

app.get("/health", (c) => c.json({ ok: true }));
app.route("/pool", poolRoutes);
app.route("/admin/pool", adminPoolRoutes);

app.notFound((c) => {
  const err = new GatewayError({
    status: 404,
    type: "invalid_request_error",
    message: `Unknown route: ${c.req.method} ${new URL(c.req.url).pathname}`,
    code: "unknown_route",
  });
  return c.json(err.toBody(), err.status);
});

app.onError((err, c) => {
  const gatewayError = toGatewayError(err);
  if (gatewayError.status >= 500 && !(err instanceof GatewayError)) console.error("unhandled error", err);
  return c.json(gatewayError.toBody(), gatewayError.status, gatewayError.headers);
});

export default app;
export { RateLimiter } from "./limits/rate-limiter-do.js";
