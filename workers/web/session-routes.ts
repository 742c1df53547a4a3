/**
 * The web app's sign-in: `POST /auth/session` exchanges an API key for a session cookie (the key
 * is never kept in the browser), `POST /auth/demo` makes an anonymous public-demo visitor,
 * `GET /auth/session` says who the cookies sign in as, `DELETE /auth/session` signs out.
 * Cookie-setting requests, like every cookie-authenticated write, must come from the page's origin.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv, Caller } from "../app-env.js";
import { resolveCaller } from "../auth/middleware.js";
import { sha256Hex } from "../auth/key-material.js";
import { GatewayError, notFound, unauthorized } from "../errors.js";
import { readJsonBody } from "../http/json-body.js";
import { clearCookie, SESSION_COOKIE, setCookie, VISITOR_COOKIE, withoutCookie } from "./cookies.js";
import {
  cookieCaller,
  demoKeyCaller,
  forgetSession,
  SESSION_PURPOSE,
  sessionIdFromCookies,
  VISITOR_PURPOSE,
  visitorCaller,
  visitorPayload,
} from "./cookie-auth.js";
import { requireSameOrigin } from "./same-origin.js";
import { createWebSession, deleteWebSession } from "./session-store.js";
import { randomToken, signValue } from "./signed-token.js";
import { getWebConfig } from "./web-config.js";

export const SignInBody = z.object({ api_key: z.string().min(1).max(512) }).strict();

/** What the page needs to know about the browser's sign-in; never a key or an end-user id. */
export type SessionView =
  | { signed_in: false; demo: boolean }
  | { signed_in: true; kind: "key"; name: string; role: Caller["role"]; demo: boolean }
  | { signed_in: true; kind: "visitor"; demo: true };

function view(caller: Caller | null, demo: boolean): SessionView {
  if (caller === null) return { signed_in: false, demo };
  if (caller.via === "visitor") return { signed_in: true, kind: "visitor", demo: true };
  return { signed_in: true, kind: "key", name: caller.name, role: caller.role, demo };
}

function secure(c: Context<AppEnv>): boolean {
  return new URL(c.req.url).protocol === "https:";
}

function requireSecret(c: Context<AppEnv>): string {
  const secret = getWebConfig(c.env).sessionSecret;
  if (secret !== null) return secret;
  throw new GatewayError({
    status: 503,
    type: "service_unavailable_error",
    message: "Web sign-in is not configured on this gateway: set the SESSION_SECRET secret.",
    code: "web_sessions_not_configured",
  });
}

async function demoOn(c: Context<AppEnv>): Promise<boolean> {
  return (await demoKeyCaller(c.env, Date.now())) !== null;
}

export const sessionRoutes = new Hono<AppEnv>()
  .get("/session", async (c) => {
    const caller = await cookieCaller(c.env, c.req.header("cookie"));
    c.header("cache-control", "no-store");
    return c.json(view(caller, await demoOn(c)));
  })
  .post("/session", async (c) => {
    requireSameOrigin(c);
    const secret = requireSecret(c);
    const body = await readJsonBody(c, SignInBody);
    const caller = await resolveCaller(c.env, body.api_key.trim());
    if (!caller) throw unauthorized("That API key is not valid (or has been revoked).");
    const now = Date.now();
    const ttlMs = getWebConfig(c.env).sessionTtlMs;
    const sessionId = randomToken(32);
    await createWebSession(c.env.DB, { idHash: await sha256Hex(sessionId), keyId: caller.keyId, now, expiresAt: now + ttlMs });
    const value = await signValue(secret, SESSION_PURPOSE, sessionId);
    c.header("set-cookie", setCookie(SESSION_COOKIE, value, { maxAgeSeconds: ttlMs / 1000, secure: secure(c) }));
    c.header("cache-control", "no-store");
    return c.json(view({ ...caller, via: "session" }, await demoOn(c)));
  })
  .delete("/session", async (c) => {
    requireSameOrigin(c);
    const sessionId = await sessionIdFromCookies(c.env, c.req.header("cookie"));
    if (sessionId !== null) {
      await deleteWebSession(c.env.DB, await sha256Hex(sessionId));
      await forgetSession(sessionId);
    }
    // Signing out of a key's session returns to the visitor identity, if any; signing out as a
    // visitor drops the visitor identity (and with it the way back to its chats).
    c.header("set-cookie", clearCookie(sessionId !== null ? SESSION_COOKIE : VISITOR_COOKIE, secure(c)));
    c.header("cache-control", "no-store");
    const rest = sessionId !== null ? await cookieCaller(c.env, withoutCookie(c.req.header("cookie"), SESSION_COOKIE)) : null;
    return c.json(view(rest, await demoOn(c)));
  })
  .post("/demo", async (c) => {
    requireSameOrigin(c);
    const secret = requireSecret(c);
    const key = await demoKeyCaller(c.env, Date.now());
    if (!key) throw notFound("Public demo mode is off on this gateway: sign in with an API key.", "demo_off");
    c.header("cache-control", "no-store");
    // A visitor who already has an identity keeps it (and its chats).
    if (await visitorCaller(c.env, c.req.header("cookie"), Date.now())) return c.json(view({ ...key, via: "visitor" }, true));
    const expiresAt = Date.now() + getWebConfig(c.env).visitorTtlMs;
    const value = await signValue(secret, VISITOR_PURPOSE, visitorPayload(randomToken(18), expiresAt));
    c.header("set-cookie", setCookie(VISITOR_COOKIE, value, { maxAgeSeconds: getWebConfig(c.env).visitorTtlMs / 1000, secure: secure(c) }));
    return c.json(view({ ...key, via: "visitor" }, true));
  });
