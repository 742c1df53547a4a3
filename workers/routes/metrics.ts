/**
 * GET /metrics: Prometheus text for operators and scrapers. Pool gauges come from the pool
 * snapshot this isolate routes from; the gateway counters from the GatewayMetrics object, sent
 * this isolate's unflushed counts along with the read. Allowed with an admin key or the
 * METRICS_TOKEN secret (which opens nothing else), as `Authorization: Bearer …`.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.js";
import { bearerToken, matchesSecret } from "../auth/key-material.js";
import { resolveCaller } from "../auth/middleware.js";
import { getConfig } from "../config.js";
import { forbidden, serviceUnavailable, unauthorized } from "../errors.js";
import { buildFamilies } from "../metrics/exposition.js";
import { metricsStub } from "../metrics/metrics-do.js";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../metrics/prometheus.js";
import { restoreBufferedMetrics, takeBufferedMetrics } from "../metrics/recorder.js";
import { getPoolSnapshot } from "../pool/snapshot-cache.js";

const MISSING_CREDENTIALS = "GET /metrics needs `Authorization: Bearer <admin key or METRICS_TOKEN>`.";

/** Admits the metrics token or an admin key; 401 for anything missing or unknown, 403 for a non-admin key. */
const requireMetricsAccess = createMiddleware<AppEnv>(async function requireMetricsAccess(c, next) {
  const token = bearerToken(c.req.header("authorization"));
  if (!token) throw unauthorized(MISSING_CREDENTIALS);
  if (c.env.METRICS_TOKEN && (await matchesSecret(token, c.env.METRICS_TOKEN))) return next();
  const caller = await resolveCaller(c.env, token);
  if (!caller) throw unauthorized(`Invalid or revoked key. ${MISSING_CREDENTIALS}`);
  if (caller.role !== "admin") throw forbidden(`GET /metrics needs an admin key or the metrics token; this key has role ${caller.role}.`);
  return next();
});

export const metricsRoutes = new Hono<AppEnv>().get("/", requireMetricsAccess, async (c) => {
  const now = Date.now();
  const buffered = takeBufferedMetrics();
  const [totals, snapshot] = await Promise.allSettled([metricsStub(c.env).read(buffered), getPoolSnapshot(c.env, now)]);
  if (totals.status === "rejected") {
    if (buffered) restoreBufferedMetrics(buffered);
    console.error("metrics: the metrics object cannot be reached", totals.reason);
    throw serviceUnavailable("The gateway's metrics store cannot be reached right now. Try again shortly.", "metrics_unavailable", 2);
  }
  if (snapshot.status === "rejected") console.error("metrics: the pool snapshot cannot be read", snapshot.reason);
  const text = renderPrometheus(
    buildFamilies({
      totals: totals.value,
      snapshot: snapshot.status === "fulfilled" ? snapshot.value : null,
      models: [...getConfig(c.env).models.keys()],
      now,
    }),
  );
  return c.body(text, 200, { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" });
});
