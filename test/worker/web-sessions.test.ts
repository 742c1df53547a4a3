import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { revokeApiKey } from "../../workers/auth/key-store.js";
import type { Env } from "../../workers/env.js";
import app from "../../workers/index.js";
import { ADMIN_KEY, BASE, expectOpenAIError, seedKey } from "./helpers.js";

/**
 * The web app's sign-in through the real Worker. Requests go to `app.fetch` with an env of the
 * test's choosing (the demo key, limits, the cache bound), on the same local D1 and Durable Objects.
 */
async function request(
  vars: Partial<Env>,
  method: string,
  path: string,
  options: { cookie?: string | null; origin?: string | null; body?: unknown; bearer?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  const origin = options.origin === undefined ? BASE : options.origin;
  if (origin !== null) headers.origin = origin;
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`${BASE}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) }),
    { ...env, ...vars },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/** The `name=value` part of a response's Set-Cookie, as a browser would send it back. */
function cookieOf(res: Response): string {
  const header = res.headers.get("set-cookie");
  if (!header) throw new Error("no Set-Cookie");
  return header.split(";")[0]!;
}

async function signIn(vars: Partial<Env>, apiKey: string): Promise<string> {
  const res = await request(vars, "POST", "/auth/session", { body: { api_key: apiKey } });
  expect(res.status).toBe(200);
  return cookieOf(res);
}

describe("signing in with an API key", () => {
  it("sets an HttpOnly, SameSite=Strict session cookie that carries no key, and says who signed in", async () => {
    const { key } = await seedKey("user", "web alice");
    const res = await request({}, "POST", "/auth/session", { body: { api_key: key } });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^altiplano_session=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Path=\/; Max-Age=604800; HttpOnly; SameSite=Strict; Secure$/);
    expect(setCookie).not.toContain(key);
    expect(setCookie).not.toContain(key.slice(7, 20));
    const body = await res.json();
    expect(body).toEqual({ signed_in: true, kind: "key", name: "web alice", role: "user", demo: false });
    expect(JSON.stringify(body)).not.toContain(key);
    const who = await request({}, "GET", "/auth/session", { cookie: cookieOf(res) });
    expect(await who.json()).toEqual({ signed_in: true, kind: "key", name: "web alice", role: "user", demo: false });
  });

  it.each([
    ["a wrong key", { api_key: "sk-alt-not-a-key" }, 401, "invalid_api_key"],
    ["no key", {}, 400, "invalid_value"],
  ])("refuses %s in the OpenAI shape and sets no cookie", async (_name, body, status, code) => {
    const res = await request({}, "POST", "/auth/session", { body });
    expect(res.headers.get("set-cookie")).toBeNull();
    await expectOpenAIError(res, status, code);
  });

  it("refuses a sign-in posted from another site (no login forgery)", async () => {
    const { key } = await seedKey("user");
    const res = await request({}, "POST", "/auth/session", { body: { api_key: key }, origin: "https://evil.example" });
    expect(res.headers.get("set-cookie")).toBeNull();
    await expectOpenAIError(res, 403, "cross_origin_request");
  });

  it("without SESSION_SECRET says web sign-in is not configured", async () => {
    const { key } = await seedKey("user");
    const err = await expectOpenAIError(await request({ SESSION_SECRET: "" }, "POST", "/auth/session", { body: { api_key: key } }), 503, "web_sessions_not_configured");
    expect(err.message).toContain("SESSION_SECRET");
  });
});

describe("a session cookie on the /v1 routes", () => {
  it("works like the key for reads, and for writes from the page's own origin only", async () => {
    const { key } = await seedKey("user");
    const cookie = await signIn({}, key);
    expect((await request({}, "GET", "/v1/models", { cookie })).status).toBe(200);
    const created = await request({}, "POST", "/v1/conversations", { cookie, body: { metadata: { title: "from the page" } } });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as { id: string }).id;

    await expectOpenAIError(await request({}, "POST", "/v1/conversations", { cookie, origin: "https://evil.example", body: {} }), 403, "cross_origin_request");
    await expectOpenAIError(await request({}, "POST", "/v1/conversations", { cookie, origin: null, body: {} }), 403, "cross_origin_request");
    await expectOpenAIError(await request({}, "DELETE", `/v1/conversations/${id}`, { cookie, origin: "https://evil.example" }), 403, "cross_origin_request");

    // The refused writes changed nothing: the key sees exactly its one conversation.
    const list = (await (await request({}, "GET", "/v1/conversations", { bearer: key })).json()) as { data: Array<{ id: string }> };
    expect(list.data.map((c) => c.id)).toEqual([id]);
  });

  it("a Bearer key still wins over a cookie, exactly as before", async () => {
    const { key } = await seedKey("user");
    const cookie = await signIn({}, key);
    await expectOpenAIError(await request({}, "GET", "/v1/models", { cookie, bearer: "sk-alt-wrong" }), 401, "invalid_api_key");
  });

  it.each([
    ["tampered", (c: string) => c.replace(/=(.)/, (_m, ch: string) => `=${ch === "A" ? "B" : "A"}`)],
    ["signed with another secret", (c: string) => c],
    ["renamed to the visitor cookie", (c: string) => c.replace("altiplano_session", "altiplano_visitor")],
  ])("a %s cookie signs no one in", async (name, mangle) => {
    const { key } = await seedKey("user");
    const cookie = mangle(await signIn(name === "signed with another secret" ? { SESSION_SECRET: "another-secret" } : {}, key));
    await expectOpenAIError(await request({}, "GET", "/v1/models", { cookie }), 401, "invalid_api_key");
    expect(await (await request({}, "GET", "/auth/session", { cookie })).json()).toEqual({ signed_in: false, demo: false });
  });

  it("an admin signed in on the page reaches the admin API, the bootstrap admin key included", async () => {
    const cookie = await signIn({}, ADMIN_KEY);
    expect((await request({}, "GET", "/admin/keys", { cookie })).status).toBe(200);
  });
});

describe("signing out and revocation", () => {
  it("sign-out clears the cookie and ends the session even for a copy of the cookie", async () => {
    const { key } = await seedKey("user");
    const cookie = await signIn({}, key);
    const out = await request({}, "DELETE", "/auth/session", { cookie });
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toMatch(/^altiplano_session=; Path=\/; Max-Age=0;/);
    expect(await out.json()).toEqual({ signed_in: false, demo: false });
    await expectOpenAIError(await request({}, "GET", "/v1/models", { cookie }), 401, "invalid_api_key");
  });

  it("revoking the key ends its sessions (at once in the revoking isolate)", async () => {
    const { id, key } = await seedKey("user");
    const cookie = await signIn({}, key);
    expect((await request({}, "GET", "/v1/models", { cookie })).status).toBe(200);
    expect((await request({}, "DELETE", `/admin/keys/${id}`, { bearer: ADMIN_KEY })).status).toBe(200);
    await expectOpenAIError(await request({}, "GET", "/v1/models", { cookie }), 401, "invalid_api_key");
  });

  it("a key revoked elsewhere ends its sessions once the auth cache bound passes", async () => {
    // AUTH_CACHE_TTL_MS=0: the bound has always passed, as it has 30 s after a revocation elsewhere.
    const vars = { AUTH_CACHE_TTL_MS: "0" };
    const { id, key } = await seedKey("user");
    const cookie = await signIn(vars, key);
    expect((await request(vars, "GET", "/v1/models", { cookie })).status).toBe(200);
    await revokeApiKey(env.DB, id);
    await expectOpenAIError(await request(vars, "GET", "/v1/models", { cookie }), 401, "invalid_api_key");
  });
});

describe("public demo mode", () => {
  async function visitor(vars: Partial<Env>): Promise<string> {
    const res = await request(vars, "POST", "/auth/demo");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ signed_in: true, kind: "visitor", demo: true });
    expect(res.headers.get("set-cookie")).toMatch(/^altiplano_visitor=[^;]+; Path=\/; Max-Age=2592000; HttpOnly; SameSite=Strict; Secure$/);
    return cookieOf(res);
  }

  it("is off by default", async () => {
    expect(await (await request({}, "GET", "/auth/session")).json()).toEqual({ signed_in: false, demo: false });
    await expectOpenAIError(await request({}, "POST", "/auth/demo"), 404, "demo_off");
  });

  it("stays off when the configured key is not a bot key", async () => {
    const { id } = await seedKey("user");
    await expectOpenAIError(await request({ PUBLIC_DEMO_KEY_ID: id }, "POST", "/auth/demo"), 404, "demo_off");
  });

  it("gives each visitor conversations private to it, whatever `user` it sends", async () => {
    const { id, key } = await seedKey("bot", "demo bot");
    const vars = { PUBLIC_DEMO_KEY_ID: id };
    expect(await (await request(vars, "GET", "/auth/session")).json()).toEqual({ signed_in: false, demo: true });
    const [alice, bob] = [await visitor(vars), await visitor(vars)];
    expect(alice).not.toBe(bob);
    // The key's own (shared) conversations are not a visitor's.
    await request(vars, "POST", "/v1/conversations", { bearer: key, body: { metadata: { title: "key's own" } } });

    const created = await request(vars, "POST", "/v1/conversations", { cookie: alice, body: { user: "bob-wants-in", metadata: { title: "alice" } } });
    expect(created.status).toBe(201);
    const conv = (await created.json()) as { id: string; user: string | null };
    expect(conv.user).toMatch(/^web:/);

    const titles = async (cookie: string) =>
      ((await (await request(vars, "GET", "/v1/conversations", { cookie })).json()) as { data: Array<{ metadata: { title?: string } }> }).data.map((c) => c.metadata.title);
    expect(await titles(alice)).toEqual(["alice"]);
    expect(await titles(bob)).toEqual([]);
    await expectOpenAIError(await request(vars, "GET", `/v1/conversations/${conv.id}`, { cookie: bob }), 404, "conversation_not_found");
    await expectOpenAIError(await request(vars, "GET", `/v1/conversations/${conv.id}?user=${encodeURIComponent(conv.user!)}`, { cookie: bob }), 404, "conversation_not_found");
    expect((await request(vars, "POST", `/v1/conversations/${conv.id}/share`, { cookie: bob })).status).toBe(404);
    expect((await request(vars, "DELETE", `/v1/conversations/${conv.id}`, { cookie: bob })).status).toBe(404);
    // Calling /auth/demo again keeps a visitor's identity.
    const again = await request(vars, "POST", "/auth/demo", { cookie: alice });
    expect(again.headers.get("set-cookie")).toBeNull();
    expect(await titles(alice)).toEqual(["alice"]);
  });

  it("holds each visitor to the key's end-user limits, apart from the others", async () => {
    const { id } = await seedKey("bot");
    const vars = { PUBLIC_DEMO_KEY_ID: id, END_USER_LIMIT_REQUESTS_PER_MINUTE: "2" };
    const [alice, bob] = [await visitor(vars), await visitor(vars)];
    const statuses = async (cookie: string, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const res = await request(vars, "POST", "/v1/chat/completions", { cookie, body: { model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "hi" }], max_tokens: 4 } });
        out.push(res.status);
        await res.text();
      }
      return out;
    };
    // No GPU worker is registered here: an admitted request is a 503, a refused one a 429.
    expect(await statuses(alice, 3)).toEqual([503, 503, 429]);
    expect(await statuses(bob, 1)).toEqual([503]);
  });

  it("a visitor never reaches the admin API or another end user's usage", async () => {
    const { id } = await seedKey("bot");
    const vars = { PUBLIC_DEMO_KEY_ID: id };
    const alice = await visitor(vars);
    await expectOpenAIError(await request(vars, "GET", "/admin/keys", { cookie: alice }), 403, "forbidden");
    const usage = (await (await request(vars, "GET", "/v1/usage?user=someone-else", { cookie: alice })).json()) as { user: string };
    expect(usage.user).toMatch(/^web:/);
  });

  it("signing out as a visitor drops the visitor identity", async () => {
    const { id } = await seedKey("bot");
    const vars = { PUBLIC_DEMO_KEY_ID: id };
    const alice = await visitor(vars);
    const out = await request(vars, "DELETE", "/auth/session", { cookie: alice });
    expect(out.headers.get("set-cookie")).toMatch(/^altiplano_visitor=; Path=\/; Max-Age=0;/);
  });
});

describe("the pages", () => {
  it.each(["/", "/share/shr_abc", "/assets/"])("%s carries a strict CSP, nosniff and no framing", async (path) => {
    const res = await request({}, "GET", path, { origin: null });
    await res.arrayBuffer();
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("serves the chat page and the share page as HTML", async () => {
    for (const path of ["/", "/share/shr_abc"]) {
      const res = await request({}, "GET", path, { origin: null });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(await res.text()).toMatch(/^<!doctype html>/i);
    }
  });
});
