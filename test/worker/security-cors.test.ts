/**
 * CORS: off by default (no CORS header on any answer, a preflight is just an unauthenticated
 * request); with CORS_ALLOWED_ORIGINS, allowed origins get preflights and readable responses
 * (errors included), others get a 403 preflight and no CORS headers. Through the real app with
 * the var set on a copy of the test env.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import app from "../../workers/index.js";
import { decideCors, parseAllowedOrigins, type CorsOrigins } from "../../workers/http/cors-policy.js";
import { ADMIN_KEY, call, expectOpenAIError } from "./helpers.js";

const APP = "https://app.example.com";
const EVIL = "https://evil.example.net";

async function send(vars: Record<string, string>, method: string, path: string, headers: Record<string, string>): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`https://gateway.test${path}`, { method, headers }), { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const preflight = (origin: string) => ({ origin, "access-control-request-method": "POST", "access-control-request-headers": "Authorization, Content-Type, X-Stainless-OS" });

describe("CORS off (the default)", () => {
  it("adds no CORS header, to a success or an error", async () => {
    for (const key of [ADMIN_KEY, "sk-alt-nope"]) {
      const res = await call("GET", "/v1/models", { key, headers: { origin: APP } });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    }
  });

  it("treats a preflight as an unauthenticated request (401), allowing nothing", async () => {
    const res = await call("OPTIONS", "/v1/chat/completions", { key: null, headers: preflight(APP) });
    await expectOpenAIError(res, 401, "invalid_api_key");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("CORS with CORS_ALLOWED_ORIGINS", () => {
  const vars = { CORS_ALLOWED_ORIGINS: `${APP}, http://localhost:5173` };

  it("answers an allowed preflight with 204 before authentication", async () => {
    const res = await send(vars, "OPTIONS", "/v1/chat/completions", preflight(APP));
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe("authorization, content-type, x-stainless-os");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("refuses a preflight from another origin with 403 in the OpenAI shape", async () => {
    const res = await send(vars, "OPTIONS", "/v1/chat/completions", preflight(EVIL));
    await expectOpenAIError(res, 403, "cors_origin_not_allowed");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("makes success and error responses readable by an allowed origin, with the rate-limit headers exposed", async () => {
    const ok = await send(vars, "GET", "/v1/models", { origin: "http://localhost:5173", authorization: `Bearer ${ADMIN_KEY}` });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(ok.headers.get("access-control-expose-headers")).toContain("x-ratelimit-remaining-requests");
    const denied = await send(vars, "GET", "/v1/models", { origin: APP });
    await expectOpenAIError(denied.clone(), 401, "invalid_api_key");
    expect(denied.headers.get("access-control-allow-origin")).toBe(APP);
  });

  it("gives another origin's actual request no CORS header (the browser hides the answer)", async () => {
    const res = await send(vars, "GET", "/v1/models", { origin: EVIL, authorization: `Bearer ${ADMIN_KEY}` });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("with `*`, allows any origin without credentials", async () => {
    const res = await send({ CORS_ALLOWED_ORIGINS: "*" }, "OPTIONS", "/v1/models", preflight(EVIL));
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("fails fast on a malformed origin list", async () => {
    const res = await send({ CORS_ALLOWED_ORIGINS: "https://app.example.com/path" }, "GET", "/health", {});
    expect(res.status).toBe(500);
  });
});

describe("parseAllowedOrigins", () => {
  it.each([
    ["", null],
    [" , ", null],
    ["*", { any: true }],
    ["https://A.example.com", { any: false, origins: new Set(["https://a.example.com"]) }],
    ["https://a.example.com,http://127.0.0.1:8080", { any: false, origins: new Set(["https://a.example.com", "http://127.0.0.1:8080"]) }],
  ])("accepts %j", (text, value) => {
    expect(parseAllowedOrigins(text)).toEqual({ ok: true, value });
  });

  it.each(["https://a.example.com/", "https://a.example.com/x", "a.example.com", "*,https://a.example.com", "javascript:alert(1)", "null"])("rejects %j", (text) => {
    expect(parseAllowedOrigins(text).ok).toBe(false);
  });
});

describe("decideCors", () => {
  const policy: CorsOrigins = { any: false, origins: new Set([APP]) };
  it.each([
    ["CORS off", null, { method: "GET", origin: APP }, "none"],
    ["no Origin header (not a browser cross-origin call)", policy, { method: "GET", origin: null }, "none"],
    ["an OPTIONS without Access-Control-Request-Method is no preflight", policy, { method: "OPTIONS", origin: APP }, "actual"],
    ["an allowed preflight", policy, { method: "OPTIONS", origin: APP, requestMethod: "DELETE" }, "preflight"],
    ["a foreign preflight", policy, { method: "OPTIONS", origin: EVIL, requestMethod: "GET" }, "preflight-denied"],
  ] as const)("%s", (_name, p, req, kind) => {
    expect(decideCors(p, { requestMethod: null, requestHeaders: null, ...req }).kind).toBe(kind);
  });

  it("drops malformed requested header names instead of echoing them", () => {
    const d = decideCors(policy, { method: "OPTIONS", origin: APP, requestMethod: "POST", requestHeaders: "content-type, bad header, x\r\ny" });
    expect(d).toMatchObject({ kind: "preflight", headers: { "access-control-allow-headers": "content-type" } });
  });
});
