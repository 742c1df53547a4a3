/**
 * Bearer-key authentication. A key is looked up by its SHA-256; results are cached per isolate for
 * AUTH_CACHE_TTL_MS, which is therefore the bound on how long a revoked key keeps working in
 * another isolate (the isolate that revokes forgets the key at once).
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv, Caller, Role } from "../app-env.js";
import { getConfig } from "../config.js";
import { forbidden, unauthorized } from "../errors.js";
import { bearerToken, digestsEqual, sha256Hex } from "./key-material.js";
import { findActiveKeyByHash } from "./key-store.js";

/** Caller id of the bootstrap admin key from the ADMIN_API_KEY secret. */
export const BOOTSTRAP_ADMIN_ID = "key_bootstrap_admin";

interface CacheEntry {
  caller: Caller | null;
  expiresAt: number;
}

/** Per-isolate cache of key lookups by hash, bounded in size and age. */
class KeyCache {
  private readonly entries = new Map<string, CacheEntry>();
  private static readonly MAX_ENTRIES = 10_000;

  get(hash: string, now: number): CacheEntry | undefined {
    const entry = this.entries.get(hash);
    if (entry && entry.expiresAt <= now) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry;
  }

  set(hash: string, entry: CacheEntry): void {
    if (this.entries.size >= KeyCache.MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(hash, entry);
  }

  forgetKeyId(keyId: string): void {
    for (const [hash, entry] of this.entries) if (entry.caller?.keyId === keyId) this.entries.delete(hash);
  }
}

const keyCache = new KeyCache();

/** Drops a revoked or changed key from this isolate's cache. */
export function forgetCachedKey(keyId: string): void {
  keyCache.forgetKeyId(keyId);
}

let bootstrapHash: { secret: string; hash: string } | null = null;

async function bootstrapAdminHash(secret: string): Promise<string> {
  if (bootstrapHash?.secret !== secret) bootstrapHash = { secret, hash: await sha256Hex(secret) };
  return bootstrapHash.hash;
}

/** Resolves the caller of a bearer key, or null for an unknown or revoked key. */
export async function resolveCaller(env: AppEnv["Bindings"], token: string, now = Date.now()): Promise<Caller | null> {
  const hash = await sha256Hex(token);
  if (env.ADMIN_API_KEY && digestsEqual(hash, await bootstrapAdminHash(env.ADMIN_API_KEY))) {
    return { keyId: BOOTSTRAP_ADMIN_ID, name: "bootstrap admin", role: "admin", limits: null };
  }
  const cached = keyCache.get(hash, now);
  if (cached) return cached.caller;
  const row = await findActiveKeyByHash(env.DB, hash);
  const caller: Caller | null = row ? { keyId: row.id, name: row.name, role: row.role, limits: row.limits } : null;
  keyCache.set(hash, { caller, expiresAt: now + getConfig(env).authCacheTtlMs });
  return caller;
}

/** Requires a valid API key and sets `c.var.caller`. */
export const authenticate = createMiddleware<AppEnv>(async function authenticate(c, next) {
  const token = bearerToken(c.req.header("authorization"));
  if (!token) throw unauthorized();
  const caller = await resolveCaller(c.env, token);
  if (!caller) throw unauthorized("Invalid or revoked API key.");
  c.set("caller", caller);
  await next();
});

/** Requires the caller (set by `authenticate`) to have one of `roles`. */
export function requireRole(...roles: Role[]) {
  if (roles.length === 0) throw new Error("requireRole needs at least one role");
  return createMiddleware<AppEnv>(async function requireRoleHandler(c, next) {
    const caller = c.var.caller;
    if (!roles.includes(caller.role)) {
      throw forbidden(`This route needs a key with role ${roles.join(" or ")}; this key has role ${caller.role}.`);
    }
    await next();
  });
}
