/**
 * The bot's configuration, parsed once from the environment with zod; a missing or malformed
 * value stops the bot at start with a message naming the variable.
 */
import { z } from "zod";
import type { AccessConfig } from "../discord/access.js";

const idList = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? "")
      .split(",")
      .map((x) => x.trim())
      .filter((x) => x !== ""),
  )
  .pipe(z.array(z.string().regex(/^\d{1,25}$/, "must be a comma-separated list of Discord ids")));

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", "on", "off"])
    .optional()
    .transform((v) => (v === undefined ? fallback : ["true", "1", "yes", "on"].includes(v)));

const required = (what: string) => z.string({ error: `is required (${what})` });

const EnvSchema = z.object({
  DISCORD_TOKEN: required("the bot token from the Discord developer portal").min(1, "must not be empty"),
  DISCORD_APPLICATION_ID: required("the application's numeric id").regex(/^\d{1,25}$/, "must be the application's numeric id"),
  ALTIPLANO_URL: required("the gateway's base URL").pipe(z.url("must be the gateway's base URL, e.g. https://altiplano.example.workers.dev")),
  ALTIPLANO_API_KEY: required("a gateway API key with role bot").min(1, "must not be empty"),
  DISCORD_DEV_GUILD_ID: z.string().regex(/^\d{1,25}$/).optional(),
  DISCORD_REST_API: z.url().optional(),
  DISCORD_ALLOWED_GUILDS: idList,
  DISCORD_ALLOWED_CHANNELS: idList,
  DISCORD_ALLOWED_ROLES: idList,
  DISCORD_ALLOW_DMS: bool(true),
  EDIT_INTERVAL_MS: z.coerce.number().int().min(200).max(10_000).default(1000),
  ALTIPLANO_MAX_TOKENS: z.coerce.number().int().min(1).max(32_768).optional(),
  ALTIPLANO_SYSTEM_PROMPT: z.string().max(32_000).optional(),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  BOT_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  BOT_METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  DISCORD_REST_REQUESTS_PER_SECOND: z.coerce.number().int().min(1).max(10_000).default(50),
  FEEDBACK_TRACKED_MESSAGES: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
});

export type { AccessConfig };

/** Everything the bot needs to run. */
export interface BotConfig {
  discordToken: string;
  applicationId: string;
  /** Discord REST base (…/api); discord.js appends /v10. Undefined means discord.com. */
  discordRestApi?: string;
  /** Register slash commands in this guild only (instant), instead of globally. */
  devGuildId?: string;
  gatewayUrl: string;
  gatewayApiKey: string;
  access: AccessConfig;
  /** Minimum time between two edits of a streaming reply. */
  editIntervalMs: number;
  /** max_tokens sent with each turn; undefined lets the gateway decide. */
  maxTokens?: number;
  /** System prompt for new conversations; undefined lets the gateway decide. */
  systemPrompt?: string;
  /** On shutdown, how long in-flight replies may keep streaming before they are stopped. */
  shutdownGraceMs: number;
  /** Where /health and /metrics listen; undefined: not served. Port 0 picks a free port. */
  metrics?: { host: string; port: number };
  /** discord.js' global request budget: Discord allows 50 a second per bot unless it raised the bot's limit. */
  discordRequestsPerSecond: number;
  /** How many recent reply messages reactions count on as feedback (about 1 KB of heap each). */
  feedbackTrackedMessages: number;
}

/** Parses the environment into a BotConfig, or throws an Error listing every bad variable. */
export function parseBotEnv(env: Record<string, string | undefined>): BotConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Bot configuration is invalid:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  return {
    discordToken: e.DISCORD_TOKEN,
    applicationId: e.DISCORD_APPLICATION_ID,
    discordRestApi: e.DISCORD_REST_API,
    devGuildId: e.DISCORD_DEV_GUILD_ID,
    gatewayUrl: e.ALTIPLANO_URL.replace(/\/+$/, ""),
    gatewayApiKey: e.ALTIPLANO_API_KEY,
    access: {
      allowedGuildIds: e.DISCORD_ALLOWED_GUILDS,
      allowedChannelIds: e.DISCORD_ALLOWED_CHANNELS,
      allowedRoleIds: e.DISCORD_ALLOWED_ROLES,
      allowDms: e.DISCORD_ALLOW_DMS,
    },
    editIntervalMs: e.EDIT_INTERVAL_MS,
    maxTokens: e.ALTIPLANO_MAX_TOKENS,
    systemPrompt: e.ALTIPLANO_SYSTEM_PROMPT,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    ...(e.BOT_METRICS_PORT !== undefined ? { metrics: { host: e.BOT_METRICS_HOST, port: e.BOT_METRICS_PORT } } : {}),
    discordRequestsPerSecond: e.DISCORD_REST_REQUESTS_PER_SECOND,
    feedbackTrackedMessages: e.FEEDBACK_TRACKED_MESSAGES,
  };
}
