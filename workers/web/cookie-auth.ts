/**
 * Who a browser is, from the web app's cookies: a signed-in API key's session (a row in D1,
 * workers/web/session-store.ts) or an anonymous public-demo visitor (nothing stored: the signed
 * cookie is the identity). Lookups share the API keys' cache and its bound (AUTH_CACHE_TTL_MS),
 * so a revoked key ends its sessions, and the demo, within it.
 */
import type { Caller } from "../app-env.js";
import { BOOTSTRAP_ADMIN, callerCache } from "../auth/caller-cache.js";
import { sha256Hex } from "../auth/key-material.js";
import { getApiKey } from "../auth/key-store.js";
import { getConfig } from "../config.js";
import { VISITOR_END_USER_PREFIX } from "../db/conversation-store.js";
import type { Env } from "../env.js";
import { readCookie, SESSION_COOKIE, VISITOR_COOKIE } from "./cookies.js";
import { findWebSession } from "./session-store.js";
import { verifyValue } from "./signed-token.js";
import { getWebConfig } from "./web-config.js";

/** What each cookie's signature is bound to, so one kind is never accepted as the other. */
export const SESSION_PURPOSE = "altiplano-session-v1";
export const VISITOR_PURPOSE = "altiplano-visitor-v1";

/**
 * The end-user id a demo visitor acts as: a namespace of its own, apart from Discord users' ids,
 * whose conversations are private (workers/db/conversation-store.ts).
 */
export function visitorEndUser(visitorId: string): string {
  return `${VISITOR_END_USER_PREFIX}${visitorId}`;
}

/** The session id a session cookie carries, or null when it is missing or not ours. */
export async function sessionIdFromCookies(env: Env, cookieHeader: string | undefined): Promise<string | null> {
  const secret = getWebConfig(env).sessionSecret;
  const value = readCookie(cookieHeader, SESSION_COOKIE);
  if (secret === null || value === null) return null;
  return verifyValue(secret, SESSION_PURPOSE, value);
}

export async function sessionCaller(env: Env, sessionId: string, now: number): Promise<Caller | null> {
  const idHash = await sha256Hex(sessionId);
  const name = `session:${idHash}`;
  const cached = callerCache.get(name, now);
  if (cached) return cached.caller;
  const found = await findWebSession(env.DB, { idHash, now, bootstrap: env.ADMIN_API_KEY ? BOOTSTRAP_ADMIN : null });
  const ttl = getConfig(env).authCacheTtlMs;
  callerCache.set(name, { caller: found?.caller ?? null, expiresAt: Math.min(now + ttl, found?.expiresAt ?? Infinity) });
  return found?.caller ?? null;
}

/** Forgets a signed-out session in this isolate at once (other isolates within AUTH_CACHE_TTL_MS). */
export async function forgetSession(sessionId: string): Promise<void> {
  callerCache.set(`session:${await sha256Hex(sessionId)}`, { caller: null, expiresAt: Infinity });
}

/**
 * The public demo's key as a caller, or null when the demo is off or its key is missing,
 * revoked or not a bot key (only bot keys have end users, and so end-user limits).
 */
export async function demoKeyCaller(env: Env, now: number): Promise<Caller | null> {
  const keyId = getWebConfig(env).demoKeyId;
  if (keyId === null) return null;
  const name = `demo:${keyId}`;
  const cached = callerCache.get(name, now);
  if (cached) return cached.caller;
  const row = await getApiKey(env.DB, keyId);
  const caller: Caller | null = row && row.revokedAt === null && row.role === "bot" ? { keyId: row.id, name: row.name, role: row.role, limits: row.limits } : null;
  callerCache.set(name, { caller, expiresAt: now + getConfig(env).authCacheTtlMs });
  return caller;
}

/** A visitor cookie's payload: `<visitor id>.<expiry, Unix seconds>`. */
export function visitorPayload(visitorId: string, expiresAtMs: number): string {
  return `${visitorId}.${Math.floor(expiresAtMs / 1000)}`;
}

/** The visitor id of an unexpired visitor cookie payload, or null. */
export function visitorIdOf(payload: string, now: number): string | null {
  const match = /^([A-Za-z0-9_-]{16,64})\.(\d{1,12})$/.exec(payload);
  if (!match) return null;
  return Number(match[2]) * 1000 > now ? match[1]! : null;
}

export async function visitorCaller(env: Env, cookieHeader: string | undefined, now: number): Promise<Caller | null> {
  const secret = getWebConfig(env).sessionSecret;
  const value = readCookie(cookieHeader, VISITOR_COOKIE);
  if (secret === null || value === null) return null;
  const payload = await verifyValue(secret, VISITOR_PURPOSE, value);
  const visitorId = payload === null ? null : visitorIdOf(payload, now);
  if (visitorId === null) return null;
  const key = await demoKeyCaller(env, now);
  return key ? { ...key, via: "visitor", endUser: visitorEndUser(visitorId) } : null;
}

/** The caller the cookies sign in as: a key's session first, else a demo visitor; null for neither. */
export async function cookieCaller(env: Env, cookieHeader: string | undefined, now = Date.now()): Promise<Caller | null> {
  const sessionId = await sessionIdFromCookies(env, cookieHeader);
  const session = sessionId === null ? null : await sessionCaller(env, sessionId, now);
  return session ?? (await visitorCaller(env, cookieHeader, now));
}
