/**
 * The hardening rules of SECURITY.md, one by one, through the real Worker: content type and size
 * limits on every body route, the conversation length cap, keys stored only as hashes, no secret
 * or presented credential echoed in any answer, and `user` unable to reach another scope's
 * limiter.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../workers/auth/key-material.js";
import { createConversation } from "../../workers/db/conversation-store.js";
import app from "../../workers/index.js";
import { limiterName } from "../../workers/limits/client.js";
import { ADMIN_KEY, call, expectOpenAIError, seedKey } from "./helpers.js";

const MODEL = "vicuna-13b-v1.5";

async function newConversation(keyId: string): Promise<string> {
  const id = `conv_hard${Math.random().toString(36).slice(2, 10)}`;
  await createConversation(env.DB, { id, owner: { keyId, endUser: "" }, externalId: null, model: MODEL, systemPrompt: null, metadata: {}, now: Date.now() });
  return id;
}

/** Every route that reads a body, with a body it would accept. */
function bodyRoutes(conversationId: string, keyId: string): Array<{ method: string; path: string; body: Record<string, unknown> }> {
  return [
    { method: "POST", path: "/v1/chat/completions", body: { model: MODEL, messages: [{ role: "user", content: "hi" }] } },
    { method: "POST", path: "/v1/conversations", body: {} },
    { method: "POST", path: `/v1/conversations/${conversationId}/messages`, body: { content: "hi" } },
    { method: "POST", path: `/v1/conversations/${conversationId}/regenerate`, body: {} },
    { method: "POST", path: "/admin/keys", body: { name: "x", role: "user" } },
    { method: "PATCH", path: `/admin/keys/${keyId}`, body: { limits: {} } },
  ];
}

describe("request bodies on every body route", () => {
  it.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp", ""])(
    "refuse content type %j with 415 before reading the body",
    async (contentType) => {
      const { id } = await seedKey("user");
      const conversationId = await newConversation(id);
      for (const route of bodyRoutes(conversationId, id)) {
        const res = await call(route.method, route.path, { rawBody: JSON.stringify(route.body), headers: { "content-type": contentType } });
        await expectOpenAIError(res, 415, "unsupported_media_type");
      }
    },
  );

  it("refuse a body over MAX_BODY_BYTES with 413, also without a content-length", async () => {
    const { id } = await seedKey("user");
    const conversationId = await newConversation(id);
    const padding = "x".repeat(1_000_001);
    for (const route of bodyRoutes(conversationId, id)) {
      const res = await call(route.method, route.path, { body: { ...route.body, padding } });
      await expectOpenAIError(res, 413, "payload_too_large");
    }
    // A streamed body has no content-length: the limit is enforced while reading.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 12; i++) controller.enqueue(new TextEncoder().encode("x".repeat(100_000)));
        controller.close();
      },
    });
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request("https://gateway.test/v1/conversations", {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        body: stream,
        // @ts-expect-error -- workerd needs duplex for a streamed request body; the lib types lag behind.
        duplex: "half",
      }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    await expectOpenAIError(res, 413, "payload_too_large");
  });

  it("refuse a message over MAX_MESSAGE_CHARS with 413 (chat and conversation turns)", async () => {
    const { id, key } = await seedKey("user");
    const conversationId = await newConversation(id);
    const long = "y".repeat(100_001);
    await expectOpenAIError(await call("POST", "/v1/chat/completions", { key, body: { model: MODEL, messages: [{ role: "user", content: long }] } }), 413, "message_too_long");
    await expectOpenAIError(await call("POST", `/v1/conversations/${conversationId}/messages`, { key, body: { content: long } }), 413, "message_too_long");
  });
});

describe("conversation length", () => {
  async function fill(conversationId: string, count: number): Promise<void> {
    const statements = [];
    for (let seq = 1; seq <= count; seq++) {
      statements.push(
        env.DB.prepare(`INSERT INTO messages (id, conversation_id, seq, role, content, status, end_user, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, '', ?7)`).bind(
          `msg_fill_${conversationId}_${seq}`,
          conversationId,
          seq,
          seq % 2 === 1 ? "user" : "assistant",
          `message ${seq}`,
          seq % 2 === 1 ? null : "complete",
          Date.now(),
        ),
      );
    }
    await env.DB.batch(statements);
  }

  async function turn(vars: Record<string, string>, key: string, conversationId: string): Promise<Response> {
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`https://gateway.test/v1/conversations/${conversationId}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ content: "one more" }),
      }),
      { ...env, ...vars },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  }

  it("refuses a turn that would take a conversation past MAX_CONVERSATION_MESSAGES, storing nothing", async () => {
    const { id, key } = await seedKey("user");
    const conversationId = await newConversation(id);
    await fill(conversationId, 9);
    const err = await expectOpenAIError(await turn({ MAX_CONVERSATION_MESSAGES: "10" }, key, conversationId), 400, "conversation_too_long");
    expect(err.message).toContain("10 messages");
    const stored = (await (await call("GET", `/v1/conversations/${conversationId}`, { key })).json()) as { messages: unknown[] };
    expect(stored.messages).toHaveLength(9);
    // The lock was released: the refusal is not a 409 on the next try.
    await expectOpenAIError(await turn({ MAX_CONVERSATION_MESSAGES: "10" }, key, conversationId), 400, "conversation_too_long");
  });

  it("lets the turn through while there is room for it and its reply (503 only for want of a GPU)", async () => {
    const { id, key } = await seedKey("user");
    const conversationId = await newConversation(id);
    await fill(conversationId, 8);
    await expectOpenAIError(await turn({ MAX_CONVERSATION_MESSAGES: "10" }, key, conversationId), 503, "no_workers");
  });
});

describe("keys and secrets", () => {
  it("stores a created key only as its SHA-256 and a short display prefix", async () => {
    const res = await call("POST", "/admin/keys", { body: { name: "hashed", role: "user" } });
    const created = (await res.json()) as { id: string; key: string; prefix: string };
    const row = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?1").bind(created.id).first<Record<string, unknown>>();
    expect(row).not.toBeNull();
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(created.key);
    expect(row?.key_hash).toBe(await sha256Hex(created.key));
    expect(created.prefix.length).toBeLessThan(created.key.length / 2);
    // Listing and reading it back never show more than the prefix.
    for (const path of ["/admin/keys", `/admin/keys/${created.id}`]) {
      const text = await (await call("GET", path)).text();
      expect(text).not.toContain(created.key);
      expect(text).not.toContain(String(row?.key_hash));
    }
  });

  it("never echoes a presented credential or a configured secret in an answer", async () => {
    const presented = "sk-alt-PRESENTEDsecretVALUE0123456789abcdef";
    const { id } = await seedKey("user");
    const conversationId = await newConversation(id);
    const secrets = [presented, ADMIN_KEY, "pool-test-token"];
    const requests: Array<[string, string, string]> = [
      ["GET", "/v1/models", presented],
      ["POST", "/v1/chat/completions", presented],
      ["GET", `/v1/conversations/${conversationId}`, presented],
      ["GET", "/admin/keys", presented],
      ["POST", "/pool/heartbeat", presented],
      ["POST", "/pool/heartbeat", ADMIN_KEY],
      ["GET", "/metrics", presented],
      ["GET", "/v1/models", "pool-test-token"],
      ["GET", "/admin/pool", "pool-test-token"],
    ];
    for (const [method, path, token] of requests) {
      const res = await call(method, path, { key: token, ...(method === "POST" ? { body: { x: 1 } } : {}) });
      expect(res.status, `${method} ${path}`).toBe(401);
      const text = await res.text();
      for (const secret of secrets) expect(text, `${method} ${path}`).not.toContain(secret);
      for (const [, value] of res.headers) for (const secret of secrets) expect(value).not.toContain(secret);
    }
  });
});

describe("the `user` field", () => {
  it("cannot name another scope's limiter: limiter names are distinct for distinct (key, user) pairs", () => {
    const pairs: Array<[string, string | null]> = [
      ["key_a", null],
      ["key_a", "x"],
      ["key_a", "x:user:y"],
      ["key_a", "x:user"],
      ["key_a", ":user:x"],
      ["key_a", "key:key_b"],
      ["key_b", null],
      ["key_b", "x"],
      ["key_a:user:x", null],
    ];
    // Key ids are generated (`key_` + base64url, never a colon), so the first pairs are the real space;
    // the last one shows why that matters, and the assertion below is over real key ids only.
    const real = pairs.filter(([keyId]) => /^key_[A-Za-z0-9_-]+$/.test(keyId));
    const names = real.map(([keyId, user]) => limiterName(keyId, user));
    expect(new Set(names).size).toBe(real.length);
  });

  it("is capped at 256 characters and never reflected into a response header", async () => {
    const { key } = await seedKey("bot");
    const err = await expectOpenAIError(await call("POST", "/v1/conversations", { key, body: { user: "u".repeat(257) } }), 400, "invalid_value");
    expect(err.param).toBe("user");
    const tricky = "alice\r\nx-injected: 1";
    const res = await call("POST", "/v1/conversations", { key, body: { user: tricky } });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-injected")).toBeNull();
    const conv = (await res.json()) as { id: string; user: string };
    expect(conv.user).toBe(tricky);
    // The end user's own listing finds it; another end user's does not.
    const mine = (await (await call("GET", `/v1/conversations?user=${encodeURIComponent(tricky)}`, { key })).json()) as { data: Array<{ id: string }> };
    expect(mine.data.map((c) => c.id)).toContain(conv.id);
    const other = (await (await call("GET", "/v1/conversations?user=alice", { key })).json()) as { data: Array<{ id: string }> };
    expect(other.data.map((c) => c.id)).not.toContain(conv.id);
  });
});
