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
import { BOOTSTRAP_ADMIN, callerCache } from "./caller-cache.js";
import { cookieCaller } from "../web/cookie-auth.js";
import { requireSameOrigin } from "../web/same-origin.js";

export { forgetCachedKey } from "./caller-cache.js";


let bootstrapHash: { secret: string; hash: string } | null = null;

async function bootstrapAdminHash(secret: string): Promise<string> {
  if (bootstrapHash?.secret !== secret) bootstrapHash = { secret, hash: await sha256Hex(secret) };
  return bootstrapHash.hash;
}

/** Resolves the caller of a bearer key, or null for an unknown or revoked key. */
export async function resolveCaller(env: AppEnv["Bindings"], token: string, now = Date.now()): Promise<Caller | null> {
  const hash = await sha256Hex(token);
  if (env.ADMIN_API_KEY && digestsEqual(hash, await bootstrapAdminHash(env.ADMIN_API_KEY))) {
    return BOOTSTRAP_ADMIN;
  }
  const cached = callerCache.get(`key:${hash}`, now);
  if (cached) return cached.caller;
  const row = await findActiveKeyByHash(env.DB, hash);
  const caller: Caller | null = row ? { keyId: row.id, name: row.name, role: row.role, limits: row.limits } : null;
  callerCache.set(`key:${hash}`, { caller, expiresAt: now + getConfig(env).authCacheTtlMs });
  return caller;
}

/**
 * Requires a valid API key — or, without an Authorization header, the web app's session or demo
 * visitor cookie — and sets `c.var.caller`. A cookie rides along with any request the browser
 * makes, so a cookie caller's state changes must come from the page's own origin.
 */
export const authenticate = createMiddleware<AppEnv>(async function authenticate(c, next) {
  const header = c.req.header("authorization");
  if (header === undefined) {
    const cookie = c.req.header("cookie");
    const caller = cookie === undefined ? null : await cookieCaller(c.env, cookie);
    if (!caller) throw unauthorized();
    requireSameOrigin(c);
    c.set("caller", caller);
    return next();
  }
  const token = bearerToken(header);
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
