/**
 * The bot-role key Discord members act through (DISCORD_KEY_ID), as a caller: looked up by id and
 * cached like every credential (workers/auth/caller-cache.ts), so a revoked key stops answering
 * within AUTH_CACHE_TTL_MS.
 */
import type { Caller } from "../app-env.js";
import { callerCache } from "../auth/caller-cache.js";
import { getApiKey } from "../auth/key-store.js";
import { getConfig } from "../config.js";
import type { Env } from "../env.js";

/** The key as a caller, or null when it is missing, revoked or not a bot key (only bot keys have end users). */
export async function botKeyCaller(env: Env, keyId: string, now = Date.now()): Promise<Caller | null> {
  const name = `discord:${keyId}`;
  const cached = callerCache.get(name, now);
  if (cached) return cached.caller;
  const row = await getApiKey(env.DB, keyId);
  const caller: Caller | null = row && row.revokedAt === null && row.role === "bot" ? { keyId: row.id, name: row.name, role: row.role, limits: row.limits } : null;
  callerCache.set(name, { caller, expiresAt: now + getConfig(env).authCacheTtlMs });
  return caller;
}
