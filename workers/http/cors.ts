/**
 * The CORS middleware: runs before authentication (a preflight carries no key), answers preflights
 * from allowed origins with 204 and others with 403, and adds the CORS headers to every actual
 * response — errors included, so a page can read a 401 or 429. Off unless CORS_ALLOWED_ORIGINS is
 * set (see cors-policy.ts).
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.js";
import { getConfig } from "../config.js";
import { GatewayError } from "../errors.js";
import { decideCors } from "./cors-policy.js";

export const cors = createMiddleware<AppEnv>(async function cors(c, next) {
  const decision = decideCors(getConfig(c.env).corsAllowedOrigins, {
    method: c.req.method,
    origin: c.req.header("origin") ?? null,
    requestMethod: c.req.header("access-control-request-method") ?? null,
    requestHeaders: c.req.header("access-control-request-headers") ?? null,
  });
  switch (decision.kind) {
    case "none":
      return next();
    case "preflight-denied":
      throw new GatewayError({
        status: 403,
        type: "permission_error",
        message: "This origin may not call the API from a browser (see CORS_ALLOWED_ORIGINS).",
        code: "cors_origin_not_allowed",
      });
    case "preflight":
      return c.body(null, 204, decision.headers);
    case "actual":
      await next();
      for (const [name, value] of Object.entries(decision.headers)) c.header(name, value);
      return;
  }
});
