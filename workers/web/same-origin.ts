/**
 * Cross-site request forgery guard for cookie-authenticated requests: a browser attaches the
 * cookie to whatever request a page makes, so a state-changing request counts only when its
 * `Origin` is the gateway's own. (SameSite=Strict already keeps the cookie off other sites'
 * requests; this holds even where a browser does not honour it.)
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env.js";
import { GatewayError } from "../errors.js";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether a request with this method and Origin header may change state on the gateway at `requestUrl`. */
export function isSameOriginWrite(method: string, requestUrl: string, origin: string | null | undefined): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return true;
  if (origin === null || origin === undefined || origin === "null") return false;
  try {
    return new URL(requestUrl).origin === new URL(origin).origin && !/[/?#]/.test(origin.replace(/^[a-z]+:\/\//i, ""));
  } catch {
    return false;
  }
}

export function requireSameOrigin(c: Context<AppEnv>): void {
  if (isSameOriginWrite(c.req.method, c.req.url, c.req.header("origin"))) return;
  throw new GatewayError({
    status: 403,
    type: "permission_error",
    message: "A request signed in by the web app's cookie must come from the web app's own page (its Origin did not match).",
    code: "cross_origin_request",
  });
}
