import type { GatewayMetrics } from "./metrics/metrics-do.js";
import type { GpuPool } from "./pool/pool-do.js";
import type { RateLimiter } from "./limits/rate-limiter-do.js";
import type { DiscordInteractionJob } from "./discord/interaction-job-do.js";

/** Bindings and variables the gateway Worker receives (see wrangler.toml). */
export interface Env {
  DB: D1Database;
  /** The GPU pool Durable Object (one per deployment, see workers/pool/pool-do.ts). */
  POOL: DurableObjectNamespace<GpuPool>;
  /** Rate limiters: one Durable Object per key and per key + end user (see workers/limits/). */
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** Gateway counters summed across isolates for GET /metrics (one object, see workers/metrics/). */
  METRICS: DurableObjectNamespace<GatewayMetrics>;
  /** Discord commands received over HTTP: one Durable Object per deferred command (workers/discord/). */
  DISCORD_JOBS: DurableObjectNamespace<DiscordInteractionJob>;
  /** Discord HTTP interactions, parsed in workers/discord/discord-config.ts (off unless DISCORD_PUBLIC_KEY is set). */
  DISCORD_PUBLIC_KEY?: string;
  DISCORD_APPLICATION_ID?: string;
  DISCORD_KEY_ID?: string;
  DISCORD_API_BASE?: string;
  DISCORD_EDIT_INTERVAL_MS?: string;
  DISCORD_MAX_TOKENS?: string;
  DISCORD_SYSTEM_PROMPT?: string;
  DISCORD_ALLOWED_GUILDS?: string;
  DISCORD_ALLOWED_CHANNELS?: string;
  DISCORD_ALLOWED_ROLES?: string;
  DISCORD_ALLOW_DMS?: string;
  /** JSON list of served models (see workers/config.ts). */
  MODELS: string;
  /** Bootstrap admin key (secret). */
  ADMIN_API_KEY?: string;
  /** Token GPU agents present on heartbeats (secret). */
  POOL_TOKEN?: string;
  /** The `--api-key` the gateway presents to vLLM (secret). */
  BACKEND_API_KEY?: string;
  /** The web app's built files (web/dist, Workers static assets); absent when not built. */
  ASSETS?: Fetcher;
  /** Signs the web app's session and visitor cookies (secret); without it the page cannot sign in. */
  SESSION_SECRET?: string;
  /** Web app settings, parsed in workers/web/web-config.ts (defaults there). */
  WEB_SESSION_HOURS?: string;
  PUBLIC_DEMO_KEY_ID?: string;
  PUBLIC_DEMO_VISITOR_DAYS?: string;
  /** Optional token for GET /metrics (secret). */
  METRICS_TOKEN?: string;
  /** Pool settings, parsed in workers/pool/pool-config.ts (defaults there). */
  POOL_HEARTBEAT_INTERVAL_MS?: string;
  POOL_ALLOWED_URLS?: string;
  POOL_BREAKER_FAILURES?: string;
  POOL_BREAKER_COOLDOWN_MS?: string;
  POOL_TARGET_CONCURRENCY?: string;
  POOL_TARGET_KV_USAGE?: string;
  POOL_MIN_REPLICAS?: string;
  POOL_MAX_REPLICAS?: string;
  /** Optional tuning vars, parsed in workers/config.ts (defaults there). */
  AUTH_CACHE_TTL_MS?: string;
  MAX_BODY_BYTES?: string;
  MAX_MESSAGE_CHARS?: string;
  TURN_LOCK_MS?: string;
  FIRST_TOKEN_TIMEOUT_MS?: string;
  MAX_ATTEMPTS?: string;
  FAILOVER_DEADLINE_MS?: string;
  TOKEN_STALL_TIMEOUT_MS?: string;
  CLIENT_STALL_TIMEOUT_MS?: string;
  /** Most messages one server-side conversation may hold (default 1000). */
  MAX_CONVERSATION_MESSAGES?: string;
  /** Token ids each tokenizer's encode cache keeps per isolate; 0 = off (default 250000). */
  ENCODE_CACHE_MAX_TOKENS?: string;
  /** Comma-separated origins allowed to call the API from a browser, or `*`; empty = CORS off. */
  CORS_ALLOWED_ORIGINS?: string;
  ROUTING_ABSOLUTE_LOAD_THRESHOLD?: string;
  ROUTING_RELATIVE_LOAD_THRESHOLD?: string;
  ROUTING_KV_CACHE_THRESHOLD?: string;
  ROUTING_WAITING_SHED_THRESHOLD?: string;
  /** The arena's leaderboard (workers/config.ts, workers/arena/). */
  ARENA_MAX_VOTES_PER_VOTER_PER_DAY?: string;
  ARENA_LEADERBOARD_MAX_AGE_SECONDS?: string;
  ARENA_ANCHOR_MODEL?: string;
  ARENA_ANCHOR_RATING?: string;
  ARENA_BOOTSTRAP_ROUNDS?: string;
  /** Rate limit defaults, parsed in workers/limits/config.ts (defaults there; "unlimited" = none). */
  LIMIT_REQUESTS_PER_MINUTE?: string;
  LIMIT_TOKENS_PER_MINUTE?: string;
  LIMIT_MAX_CONCURRENT?: string;
  LIMIT_TOKENS_PER_DAY?: string;
  END_USER_LIMIT_REQUESTS_PER_MINUTE?: string;
  END_USER_LIMIT_TOKENS_PER_MINUTE?: string;
  END_USER_LIMIT_MAX_CONCURRENT?: string;
  END_USER_LIMIT_TOKENS_PER_DAY?: string;
  LIMIT_LEASE_TTL_SECONDS?: string;
  USAGE_FLUSH_INTERVAL_MS?: string;
  /** Test-only fault injection (workers/faults/): "on" enables POST /admin/faults on loopback; "" (default) = off. */
  FAULT_INJECTION?: string;
  /** Days of per-minute dashboard history kept in D1 (workers/metrics/history-config.ts, default 7). */
  DASHBOARD_HISTORY_RETENTION_DAYS?: string;
}
