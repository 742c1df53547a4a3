/**
 * `POST /pool/heartbeat`: GPU agents join and stay in the pool. Authenticated by the pool token
 * alone (`Authorization: Bearer <POOL_TOKEN>`): API keys, admin ones included, are not accepted
 * here, and the pool token is accepted nowhere else. A rejected heartbeat changes nothing.
 */
import { Hono } from "hono";
import { Heartbeat } from "../../wire/heartbeat.js";
import type { AppEnv } from "../app-env.js";
import { bearerToken, matchesSecret } from "../auth/key-material.js";
import { GatewayError, invalidRequest, unauthorized } from "../errors.js";
import { parsePoolConfig } from "../pool/pool-config.js";
import { poolStub } from "../pool/pool-do.js";
import { isUrlAllowed } from "../pool/pool-state.js";

/** A heartbeat is a few hundred bytes; anything this large is not one. */
export const MAX_HEARTBEAT_BYTES = 16 * 1024;

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidRequest("The heartbeat body is not valid JSON.", null, "invalid_json");
  }
}

export const poolRoutes = new Hono<AppEnv>().post("/heartbeat", async (c) => {
  const token = bearerToken(c.req.header("authorization"));
  const expected = c.env.POOL_TOKEN;
  if (!expected) console.error("pool: POOL_TOKEN is not set; every heartbeat is rejected");
  if (!token || !expected || !(await matchesSecret(token, expected))) {
    throw unauthorized("Missing or invalid pool token. Send `Authorization: Bearer <POOL_TOKEN>`.");
  }

  const text = await c.req.text();
  if (new TextEncoder().encode(text).byteLength > MAX_HEARTBEAT_BYTES) {
    throw new GatewayError({
      status: 413,
      type: "invalid_request_error",
      message: `A heartbeat may be at most ${MAX_HEARTBEAT_BYTES} bytes.`,
      code: "request_too_large",
    });
  }
  const parsed = Heartbeat.safeParse(parseBody(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue && issue.path.length > 0 ? issue.path.join(".") : null;
    throw invalidRequest(`Invalid heartbeat: ${issue ? `${param ?? "body"}: ${issue.message}` : "bad body"}`, param);
  }

  const config = parsePoolConfig(c.env);
  if (!isUrlAllowed(parsed.data.url, config.allowedUrlPatterns)) {
    throw new GatewayError({
      status: 403,
      type: "permission_error",
      message: `Worker URL ${parsed.data.url} is not in the pool's allow-list (POOL_ALLOWED_URLS).`,
      code: "worker_url_not_allowed",
    });
  }
  const reply = await poolStub(c.env).heartbeat(parsed.data);
  return c.json(reply);
});
