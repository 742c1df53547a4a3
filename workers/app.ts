/**
 * The gateway's HTTP side: a table of routes and one error handler. workers/index.ts is the
 * Worker's entry (this app, the cron trigger, and the Durable Object classes).
 */
import { Hono } from "hono";
import type { AppEnv } from "./app-env.js";
import { newId } from "./auth/key-material.js";
import { authenticate } from "./auth/middleware.js";
import { GatewayError, toGatewayError } from "./errors.js";
import { cors } from "./http/cors.js";
import { notFoundOrMethodNotAllowed } from "./http/method-not-allowed.js";
import { openApiRoutes } from "./routes/openapi.js";
import { publicSharesRoutes } from "./routes/shares.js";
import { adminKeysRoutes } from "./routes/admin-keys.js";
import { chatCompletionsRoutes } from "./routes/chat-completions.js";
import { conversationsRoutes } from "./routes/conversations.js";
import { modelsRoutes } from "./routes/models.js";
import { adminPoolRoutes } from "./routes/admin-pool.js";
import { poolRoutes } from "./routes/pool.js";
import { metricsRoutes } from "./routes/metrics.js";
import { countRefusals } from "./metrics/refusals.js";
import { rateLimitHeadersOnEveryResponse } from "./limits/headers-middleware.js";
import { adminUsageRoutes, usageRoutes } from "./routes/usage.js";
import { pageRoutes } from "./web/pages.js";
import { adminArenaRoutes, arenaRoutes, leaderboardRoutes } from "./routes/arena.js";
import { adminEvalsRoutes } from "./routes/admin-evals.js";
import { adminExportRoutes } from "./routes/admin-export.js";
import { sessionRoutes } from "./web/session-routes.js";
import { discordInteractionsRoutes } from "./routes/discord-interactions.js";
import { adminFaultsRoutes } from "./routes/admin-faults.js";
import { adminDashboardRoutes } from "./routes/admin-dashboard.js";
import { adminConversationsRoutes, adminFlagsRoutes } from "./routes/admin-moderation.js";

const app = new Hono<AppEnv>();

app.use(async (c, next) => {
  c.set("requestId", newId("req"));
  await next();
  c.header("x-request-id", c.var.requestId);
});

// Before authentication: a browser's preflight carries no key. Off unless CORS_ALLOWED_ORIGINS is set.
app.use(cors);
app.get("/health", (c) => c.json({ ok: true }));
// Public like /health: the description of the API is read before anyone has a key.
app.route("/openapi.json", openApiRoutes);
// Public: a share link is read by anyone who has it, without a key.
app.route("/v1/shares", publicSharesRoutes);
// Public too: the arena's leaderboard is read by visitors who never vote.
app.route("/v1/leaderboard", leaderboardRoutes);
// The web app: its pages, and its sign-in, which sets the cookies `authenticate` also accepts.
app.route("/", pageRoutes);
app.route("/auth", sessionRoutes);
// Discord's HTTP interactions: authenticated by Discord's request signature, not an API key.
app.route("/discord/interactions", discordInteractionsRoutes);
app.use("/v1/*", authenticate);
app.use("/v1/*", countRefusals);
app.use("/v1/*", rateLimitHeadersOnEveryResponse);
app.use("/admin/*", authenticate);
app.route("/v1/models", modelsRoutes);
app.route("/v1/chat/completions", chatCompletionsRoutes);
app.route("/v1/conversations", conversationsRoutes);
app.route("/v1/arena", arenaRoutes);
app.route("/v1/usage", usageRoutes);
app.route("/admin/keys", adminKeysRoutes);
app.route("/admin/usage", adminUsageRoutes);
app.route("/admin/arena", adminArenaRoutes);
app.route("/admin/evals", adminEvalsRoutes);
app.route("/admin/export", adminExportRoutes);
app.route("/admin/dashboard", adminDashboardRoutes);
app.route("/admin/flags", adminFlagsRoutes);
app.route("/admin/conversations", adminConversationsRoutes);
app.route("/pool", poolRoutes);
app.route("/admin/pool", adminPoolRoutes);
app.route("/metrics", metricsRoutes);
app.route("/admin/faults", adminFaultsRoutes);

// A known path with a method it does not serve is a 405 with Allow, from the route table above.
app.notFound(notFoundOrMethodNotAllowed(() => app.routes));

app.onError((err, c) => {
  const gatewayError = toGatewayError(err);
  if (gatewayError.status >= 500 && !(err instanceof GatewayError)) console.error("unhandled error", err);
  return c.json(gatewayError.toBody(), gatewayError.status, gatewayError.headers);
});

export default app;
