/**
 * The Altiplano gateway Worker's entry: HTTP goes to the app (workers/app.ts), the cron trigger
 * refits the arena's leaderboard, and the Durable Object classes wrangler binds are exported.
 */
import app from "./app.js";
import { refreshLeaderboard } from "./arena/leaderboard-store.js";
import type { Env } from "./env.js";
import { withInjectableFaults } from "./faults/inject.js";

export { GpuPool } from "./pool/pool-do.js";
export { GatewayMetrics } from "./metrics/metrics-do.js";
export { RateLimiter } from "./limits/rate-limiter-do.js";
export { DiscordInteractionJob } from "./discord/interaction-job-do.js";

export default {
  // Test-only fault injection (workers/faults/) swaps in failing D1 and limiter bindings; off (the
  // default, FAULT_INJECTION = ""), a request pays one var comparison and no middleware.
  fetch: (request, env, ctx) => app.fetch(request, env.FAULT_INJECTION === "on" ? withInjectableFaults(env) : env, ctx),
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    ctx.waitUntil(refreshLeaderboard(env).then(() => undefined));
  },
} satisfies ExportedHandler<Env>;
