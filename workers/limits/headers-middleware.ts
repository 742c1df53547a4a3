/**
 * Puts the caller's x-ratelimit-* headers on every /v1 response, as OpenAI does, not only on
 * generations (whose admission already set them) and 429s. Mounted after authentication; a
 * request that never got a caller (401) has no limits to report.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.js";
import { endUserOf } from "../routes/end-user.js";
import { peekRateLimitHeaders } from "./client.js";
import { effectiveLimits } from "./config.js";

export const rateLimitHeadersOnEveryResponse = createMiddleware<AppEnv>(async function rateLimitHeadersOnEveryResponse(c, next) {
  await next();
  const caller = c.get("caller") as AppEnv["Variables"]["caller"] | undefined;
  if (caller === undefined) return;
  if (c.res.headers.has("x-ratelimit-limit-requests") || c.res.headers.has("x-ratelimit-limit-tokens")) return;
  const headers = await peekRateLimitHeaders(c.env, {
    keyId: caller.keyId,
    endUser: endUserOf(caller, c.req.query("user")) || null,
    limits: effectiveLimits(c.env, caller.limits),
  });
  if (Object.keys(headers).length === 0) return;
  try {
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  } catch {
    // A response with immutable headers (one passed through from a fetch) is copied once.
    const copy = new Response(c.res.body, c.res);
    for (const [name, value] of Object.entries(headers)) copy.headers.set(name, value);
    c.res = copy;
  }
});
