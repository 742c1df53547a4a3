/**
 * The gateway's configuration, parsed once per isolate from wrangler vars and failing fast with a
 * readable message. Names here are the names in wrangler.toml.
 */
import { z } from "zod";
import type { Env } from "./env.js";
import type { FailoverPolicy } from "./chat/generation.js";
import { ModelEntries } from "./models/model-config.js";
import { buildRuntime } from "./models/registry.js";
import type { ModelRuntime } from "./models/runtime.js";
import { parseAllowedOrigins, type CorsOrigins } from "./http/cors-policy.js";
import { DEFAULT_ENCODE_CACHE_MAX_TOKENS, setEncodeCacheMaxTokens } from "./prompt/index.js";
import { DEFAULT_ROUTING_OPTIONS, type RoutingOptions } from "./pool/routing.js";
import { intVar, oncePerEnv, parseVars } from "./vars.js";
import { DEFAULT_BOOTSTRAP_ROUNDS, MIN_BOOTSTRAP_ROUNDS } from "./arena/bootstrap.js";

const JsonText = <T extends z.ZodTypeAny>(schema: T) =>
  z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "is not valid JSON" });
      return z.NEVER;
    }
  }).pipe(schema);

const GatewayConfigSchema = z.object({
  MODELS: JsonText(ModelEntries),
  /** How long an isolate trusts a cached key lookup; also the revocation bound. */
  AUTH_CACHE_TTL_MS: intVar(30_000),
  /** Largest accepted request body. */
  MAX_BODY_BYTES: intVar(1_000_000),
  /** Largest single message content, in characters. */
  MAX_MESSAGE_CHARS: intVar(100_000),
  /** A turn's hold on its conversation lapses after this long if the request dies. */
  TURN_LOCK_MS: intVar(180_000),
  /** Deadline for the first token from one worker before trying the next. */
  FIRST_TOKEN_TIMEOUT_MS: intVar(30_000),
  /** Workers tried for one request, counting the first. */
  MAX_ATTEMPTS: intVar(3),
  /** The longest a client goes without a token while workers are tried (workers/chat/failover-budget.ts). */
  FAILOVER_DEADLINE_MS: intVar(45_000),
  /** A worker that sends nothing for this long after its first token has failed mid-stream. */
  TOKEN_STALL_TIMEOUT_MS: intVar(20_000),
  /** A streaming client that takes no data for this long counts as gone (see workers/chat/chunk-stream.ts). */
  CLIENT_STALL_TIMEOUT_MS: intVar(10_000),
  /** Most messages a conversation may hold; a turn that would pass it is refused. */
  MAX_CONVERSATION_MESSAGES: intVar(1_000),
  /** Token ids each tokenizer's per-isolate encode cache keeps; 0 = no cache (workers/prompt/encode-cache.ts). */
  ENCODE_CACHE_MAX_TOKENS: intVar(DEFAULT_ENCODE_CACHE_MAX_TOKENS),
  /** Origins allowed to call the API from a browser (see workers/http/cors-policy.ts). */
  CORS_ALLOWED_ORIGINS: z.string().optional().transform((text, ctx) => {
    const parsed = parseAllowedOrigins(text);
    if (parsed.ok) return parsed.value;
    ctx.addIssue({ code: "custom", message: parsed.message });
    return z.NEVER;
  }),
  /** Routing load gate and admission control (workers/pool/routing.ts explains each). */
  ROUTING_ABSOLUTE_LOAD_THRESHOLD: intVar(DEFAULT_ROUTING_OPTIONS.absoluteLoadThreshold),
  ROUTING_RELATIVE_LOAD_THRESHOLD: z.coerce.number().min(1).default(DEFAULT_ROUTING_OPTIONS.relativeLoadThreshold),
  ROUTING_KV_CACHE_THRESHOLD: z.coerce.number().min(0).max(1).default(DEFAULT_ROUTING_OPTIONS.kvCacheThreshold),
  ROUTING_WAITING_SHED_THRESHOLD: intVar(DEFAULT_ROUTING_OPTIONS.waitingShedThreshold),
  /** Arena votes that count per voter per UTC day (the earliest); 0 = no cap. */
  ARENA_MAX_VOTES_PER_VOTER_PER_DAY: intVar(100),
  /** A leaderboard older than this is recomputed (also by the cron trigger); 0 = at every read. */
  ARENA_LEADERBOARD_MAX_AGE_SECONDS: intVar(600),
  /** Pins this model's rating at ARENA_ANCHOR_RATING; empty = the mean model is at ARENA_ANCHOR_RATING. */
  ARENA_ANCHOR_MODEL: z.string().trim().max(128).optional().transform((v) => (v ? v : null)),
  ARENA_ANCHOR_RATING: intVar(1000),
  /** Bootstrap rounds behind the 95 % intervals. */
  ARENA_BOOTSTRAP_ROUNDS: intVar(DEFAULT_BOOTSTRAP_ROUNDS, MIN_BOOTSTRAP_ROUNDS),
});

export interface GatewayConfig {
  /** Every served model's runtime, by id, in MODELS order. */
  models: Map<string, ModelRuntime>;
  /** The first MODELS entry: what a request without `model` gets. */
  defaultModel: ModelRuntime;
  authCacheTtlMs: number;
  maxBodyBytes: number;
  maxMessageChars: number;
  turnLockMs: number;
  failover: FailoverPolicy;
  clientStallTimeoutMs: number;
  maxConversationMessages: number;
  /** null = CORS off. */
  corsAllowedOrigins: CorsOrigins | null;
  routing: RoutingOptions;
  arena: ArenaSettings;
}

export interface ArenaSettings {
  /** Infinity = no cap. */
  maxVotesPerVoterPerDay: number;
  leaderboardMaxAgeMs: number;
  anchor: { model: string | null; rating: number };
  bootstrapRounds: number;
}

/** Parses the Worker's vars once per isolate (per env object). Throws a readable error on bad config. */
export const getConfig = oncePerEnv((env: Env): GatewayConfig => {
  const v = parseVars(GatewayConfigSchema, env, "gateway configuration");
  // The tokenizers are per-isolate singletons, as this configuration is.
  setEncodeCacheMaxTokens(v.ENCODE_CACHE_MAX_TOKENS);
  const runtimes = v.MODELS.map(buildRuntime);
  const config: GatewayConfig = {
    models: new Map(runtimes.map((runtime) => [runtime.id, runtime])),
    defaultModel: runtimes[0]!,
    authCacheTtlMs: v.AUTH_CACHE_TTL_MS,
    maxBodyBytes: v.MAX_BODY_BYTES,
    maxMessageChars: v.MAX_MESSAGE_CHARS,
    turnLockMs: v.TURN_LOCK_MS,
    failover: {
      maxAttempts: Math.max(1, v.MAX_ATTEMPTS),
      firstTokenTimeoutMs: Math.max(1, v.FIRST_TOKEN_TIMEOUT_MS),
      failoverDeadlineMs: Math.max(1, v.FAILOVER_DEADLINE_MS),
      tokenStallTimeoutMs: Math.max(1, v.TOKEN_STALL_TIMEOUT_MS),
    },
    clientStallTimeoutMs: Math.max(1, v.CLIENT_STALL_TIMEOUT_MS),
    maxConversationMessages: Math.max(2, v.MAX_CONVERSATION_MESSAGES),
    corsAllowedOrigins: v.CORS_ALLOWED_ORIGINS,
    routing: {
      absoluteLoadThreshold: v.ROUTING_ABSOLUTE_LOAD_THRESHOLD,
      relativeLoadThreshold: v.ROUTING_RELATIVE_LOAD_THRESHOLD,
      kvCacheThreshold: v.ROUTING_KV_CACHE_THRESHOLD,
      waitingShedThreshold: v.ROUTING_WAITING_SHED_THRESHOLD,
    },
    arena: {
      maxVotesPerVoterPerDay: v.ARENA_MAX_VOTES_PER_VOTER_PER_DAY === 0 ? Infinity : v.ARENA_MAX_VOTES_PER_VOTER_PER_DAY,
      leaderboardMaxAgeMs: v.ARENA_LEADERBOARD_MAX_AGE_SECONDS * 1000,
      anchor: { model: v.ARENA_ANCHOR_MODEL, rating: v.ARENA_ANCHOR_RATING },
      bootstrapRounds: v.ARENA_BOOTSTRAP_ROUNDS,
    },
  };
  return config;
});
