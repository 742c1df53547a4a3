/**
 * Discord HTTP interactions (workers/discord/README.md): the application's public key and id, the
 * bot-role key whose end users Discord members become, and where Discord's API is. Off unless
 * DISCORD_PUBLIC_KEY is set; on but incomplete is a configuration error the endpoint reports.
 */
import { z } from "zod";
import type { AccessConfig } from "../../discord/access.js";
import type { Env } from "../env.js";
import { intVar, oncePerEnv, parseVars } from "../vars.js";

const optionalText = z.string().optional().transform((s) => (s === undefined || s.trim() === "" ? null : s.trim()));

const idList = z.string().optional().transform((s) => (s ?? "").split(",").map((x) => x.trim()).filter((x) => x !== ""));

const DiscordConfigSchema = z.object({
  /** The application's public key from the developer portal (64 hex characters). Empty = off. */
  DISCORD_PUBLIC_KEY: optionalText.refine((s) => s === null || /^[0-9a-fA-F]{64}$/.test(s), "must be 64 hex characters (the portal's Public Key)"),
  /** The application id: interaction webhooks are addressed by it. */
  DISCORD_APPLICATION_ID: optionalText.refine((s) => s === null || /^\d{1,20}$/.test(s), "must be a Discord application id (digits)"),
  /** The id of a bot-role API key: members act as its end users, with its end-user limits. */
  DISCORD_KEY_ID: optionalText,
  /** Discord's REST base; tests point it at a loopback fake. */
  DISCORD_API_BASE: optionalText.transform((s) => (s ?? "https://discord.com/api/v10").replace(/\/+$/, "")),
  /** Least time between two edits of a streaming reply (Discord allows about five edits per five seconds). */
  DISCORD_EDIT_INTERVAL_MS: intVar(1_000, 100),
  /** max_tokens sent with each turn; 0 = the model's default. */
  DISCORD_MAX_TOKENS: intVar(0),
  /** A system prompt for new conversations; empty = the model's own. */
  DISCORD_SYSTEM_PROMPT: optionalText,
  /** Where members may use the commands: the bot process's settings, same names and meaning (empty list = anywhere). */
  DISCORD_ALLOWED_GUILDS: idList,
  DISCORD_ALLOWED_CHANNELS: idList,
  DISCORD_ALLOWED_ROLES: idList,
  DISCORD_ALLOW_DMS: z.enum(["true", "false", "1", "0", "yes", "no", "on", "off"]).optional().transform((v) => v === undefined || ["true", "1", "yes", "on"].includes(v)),
});

export interface DiscordConfig {
  publicKeyHex: string;
  applicationId: string;
  keyId: string;
  apiBase: string;
  editIntervalMs: number;
  maxTokens: number | null;
  systemPrompt: string | null;
  access: AccessConfig;
}

export type DiscordConfigState = { kind: "off" } | { kind: "incomplete"; missing: string[] } | { kind: "on"; config: DiscordConfig };

export const getDiscordConfig = oncePerEnv((env: Env): DiscordConfigState => {
  const v = parseVars(DiscordConfigSchema, env, "Discord configuration");
  if (v.DISCORD_PUBLIC_KEY === null) return { kind: "off" };
  const missing = [
    ...(v.DISCORD_APPLICATION_ID === null ? ["DISCORD_APPLICATION_ID"] : []),
    ...(v.DISCORD_KEY_ID === null ? ["DISCORD_KEY_ID"] : []),
  ];
  if (v.DISCORD_APPLICATION_ID === null || v.DISCORD_KEY_ID === null) return { kind: "incomplete", missing };
  return {
    kind: "on",
    config: {
      publicKeyHex: v.DISCORD_PUBLIC_KEY,
      applicationId: v.DISCORD_APPLICATION_ID,
      keyId: v.DISCORD_KEY_ID,
      apiBase: v.DISCORD_API_BASE,
      editIntervalMs: v.DISCORD_EDIT_INTERVAL_MS,
      maxTokens: v.DISCORD_MAX_TOKENS === 0 ? null : v.DISCORD_MAX_TOKENS,
      systemPrompt: v.DISCORD_SYSTEM_PROMPT,
      access: {
        allowedGuildIds: v.DISCORD_ALLOWED_GUILDS,
        allowedChannelIds: v.DISCORD_ALLOWED_CHANNELS,
        allowedRoleIds: v.DISCORD_ALLOWED_ROLES,
        allowDms: v.DISCORD_ALLOW_DMS,
      },
    },
  };
});
