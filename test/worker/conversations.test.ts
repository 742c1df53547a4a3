/** Conversation ownership and shape, in workerd against local D1 (no GPU needed). */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createConversation } from "../../workers/db/conversation-store.js";
import { call, expectOpenAIError, seedKey } from "./helpers.js";

const ConversationBody = z.object({ id: z.string(), user: z.string().nullable(), external_id: z.string().nullable(), model: z.string() });
const ListBody = z.object({ data: z.array(z.object({ id: z.string() })) });

async function create(key: string, body: Record<string, unknown>, status = 201) {
  const res = await call("POST", "/v1/conversations", { key, body });
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return ConversationBody.parse(JSON.parse(text));
}

async function visibleIds(key: string, query = ""): Promise<string[]> {
  const res = await call("GET", `/v1/conversations${query}`, { key });
  expect(res.status).toBe(200);
  return ListBody.parse(await res.json()).data.map((c) => c.id);
}

describe("conversation ownership", () => {
  it("another key's conversation is a 404 on every route and is left intact", async () => {
    const owner = await seedKey("user");
    const other = await seedKey("user");
    const conv = await create(owner.key, { system_prompt: "mine" });
    for (const [method, path, body] of [
      ["GET", `/v1/conversations/${conv.id}`, undefined],
      ["DELETE", `/v1/conversations/${conv.id}`, undefined],
      ["POST", `/v1/conversations/${conv.id}/messages`, { content: "hi" }],
      ["POST", `/v1/conversations/${conv.id}/regenerate`, {}],
    ] as const) {
      await expectOpenAIError(await call(method, path, { key: other.key, body }), 404, "conversation_not_found");
    }
    expect(await visibleIds(other.key)).not.toContain(conv.id);
    expect((await call("GET", `/v1/conversations/${conv.id}`, { key: owner.key })).status).toBe(200);
  });

  it("a bot key's end users see their own conversations and the key's shared ones, not each other's", async () => {
    const bot = await seedKey("bot");
    const alice = await create(bot.key, { user: "alice", external_id: "dm-alice" });
    const bob = await create(bot.key, { user: "bob", external_id: "dm-bob" });
    const thread = await create(bot.key, { external_id: "thread-1" });
    expect(alice.user).toBe("alice");
    expect(thread.user).toBeNull();

    expect(new Set(await visibleIds(bot.key, "?user=alice"))).toEqual(new Set([alice.id, thread.id]));
    expect(new Set(await visibleIds(bot.key, "?user=bob"))).toEqual(new Set([bob.id, thread.id]));
    expect(await visibleIds(bot.key)).toEqual([thread.id]);
    await expectOpenAIError(await call("GET", `/v1/conversations/${alice.id}?user=bob`, { key: bot.key }), 404, "conversation_not_found");
    await expectOpenAIError(await call("DELETE", `/v1/conversations/${alice.id}?user=bob`, { key: bot.key }), 404, "conversation_not_found");
    expect((await call("GET", `/v1/conversations/${alice.id}?user=alice`, { key: bot.key })).status).toBe(200);
  });

  it("a user key's `user` field is only a label: it cannot reach other data", async () => {
    const key = await seedKey("user");
    const labelled = await create(key.key, { user: "someone" });
    expect(labelled.user).toBeNull();
    expect(await visibleIds(key.key, "?user=someone-else")).toContain(labelled.id);
  });

  it("external_id is idempotent per owner and separate across owners", async () => {
    const a = await seedKey("user");
    const b = await seedKey("user");
    const first = await create(a.key, { external_id: "same" }, 201);
    const again = await create(a.key, { external_id: "same" }, 200);
    const elsewhere = await create(b.key, { external_id: "same" }, 201);
    expect(again.id).toBe(first.id);
    expect(elsewhere.id).not.toBe(first.id);
    expect(await visibleIds(a.key, "?external_id=same")).toEqual([first.id]);
  });
});

describe("conversation input", () => {
  it.each([
    ["an unknown model", { model: "gpt-9" }, 404, "model_not_found"],
    ["an unknown field", { title: "x" }, 400, "unsupported_parameter"],
    ["a non-string metadata value", { metadata: { a: 1 } }, 400, "invalid_value"],
    ["an empty external_id", { external_id: "" }, 400, "invalid_value"],
  ])("creating with %s is rejected", async (_name, body, status, code) => {
    const { key } = await seedKey("user");
    await expectOpenAIError(await call("POST", "/v1/conversations", { key, body }), status, code);
  });

  it.each([
    ["an id of the wrong shape", "GET", "/v1/conversations/not-an-id"],
    ["a missing conversation", "GET", "/v1/conversations/conv_missing"],
  ])("%s is a 404", async (_name, method, path) => {
    const { key } = await seedKey("user");
    await expectOpenAIError(await call(method, path, { key }), 404, "conversation_not_found");
  });

  it.each([
    ["a limit over 100", "?limit=500"],
    ["an unknown query parameter", "?order=asc"],
  ])("listing with %s is a 400", async (_name, query) => {
    const { key } = await seedKey("user");
    const res = await call("GET", `/v1/conversations${query}`, { key });
    expect(res.status).toBe(400);
  });

  it("a turn on an empty conversation with a bad body stores nothing", async () => {
    const { key } = await seedKey("user");
    const conv = await create(key, {});
    await expectOpenAIError(await call("POST", `/v1/conversations/${conv.id}/messages`, { key, body: { content: "" } }), 400, "invalid_value");
    await expectOpenAIError(await call("POST", `/v1/conversations/${conv.id}/messages`, { key, body: { content: "hi" } }), 503, "no_workers");
    const stored = z.object({ messages: z.array(z.unknown()) }).parse(await (await call("GET", `/v1/conversations/${conv.id}`, { key })).json());
    expect(stored.messages).toHaveLength(0);
  });

  it("regenerating an empty conversation is a 400", async () => {
    const { key } = await seedKey("user");
    const conv = await create(key, {});
    await expectOpenAIError(await call("POST", `/v1/conversations/${conv.id}/regenerate`, { key, body: {} }), 400, "nothing_to_regenerate");
  });
});

/** Seeds a conversation straight in D1 at a given creation time (ms), to control ordering. */
async function seedConversation(keyId: string, id: string, createdAtMs: number, endUser = ""): Promise<void> {
  const { row } = await createConversation(env.DB, {
    id,
    owner: { keyId, endUser },
    externalId: null,
    model: "vicuna-13b-v1.5",
    systemPrompt: null,
    metadata: {},
    now: createdAtMs,
  });
  expect(row.id).toBe(id);
}

const PageBody = z.object({ data: z.array(z.object({ id: z.string() })), has_more: z.boolean(), last_id: z.string().nullable() });

async function page(key: string, query: string): Promise<z.infer<typeof PageBody>> {
  const res = await call("GET", `/v1/conversations${query}`, { key });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return PageBody.parse(JSON.parse(text));
}

describe("listing order and cursor", () => {
  it("lists newest first by creation time, then id, whatever the ids' random order", async () => {
    const owner = await seedKey("user");
    // Ids chosen so id order disagrees with creation order.
    await seedConversation(owner.id, "conv_zz-oldest", 1_000_000);
    await seedConversation(owner.id, "conv_aa-newest", 3_000_000);
    await seedConversation(owner.id, "conv_mm-middle", 2_000_000);
    expect((await page(owner.key, "")).data.map((c) => c.id)).toEqual(["conv_aa-newest", "conv_mm-middle", "conv_zz-oldest"]);
  });

  it("pages across conversations created in the same millisecond without skipping or repeating one", async () => {
    const owner = await seedKey("user");
    const same = 5_000_000;
    const ids = ["conv_t1", "conv_t2", "conv_t3", "conv_t4", "conv_t5"];
    for (const id of ids) await seedConversation(owner.id, id, same);
    await seedConversation(owner.id, "conv_t0-newer", same + 1);
    await seedConversation(owner.id, "conv_t9-older", same - 1);
    const expected = ["conv_t0-newer", "conv_t5", "conv_t4", "conv_t3", "conv_t2", "conv_t1", "conv_t9-older"];

    for (const limit of [1, 2, 3]) {
      const seen: string[] = [];
      let query = `?limit=${limit}`;
      for (;;) {
        const p = await page(owner.key, query);
        seen.push(...p.data.map((c) => c.id));
        if (!p.has_more) break;
        expect(p.last_id).toBe(p.data.at(-1)?.id);
        query = `?limit=${limit}&after=${p.last_id}`;
      }
      expect(seen, `limit ${limit}`).toEqual(expected);
    }
  });

  it("the last page says has_more false and last_id is its last conversation", async () => {
    const owner = await seedKey("user");
    await seedConversation(owner.id, "conv_only-a", 10);
    await seedConversation(owner.id, "conv_only-b", 20);
    const all = await page(owner.key, "?limit=2");
    expect(all.data.map((c) => c.id)).toEqual(["conv_only-b", "conv_only-a"]);
    expect(all).toMatchObject({ has_more: false, last_id: "conv_only-a" });
    expect(await page(owner.key, "?after=conv_only-a")).toMatchObject({ data: [], has_more: false, last_id: null });
  });

  it.each([
    ["an id that does not exist", "conv_never-existed"],
    ["another key's conversation", "conv_foreign-cursor"],
  ])("a cursor that is %s is a 400 invalid_cursor, not an empty page", async (_name, cursor) => {
    const owner = await seedKey("user");
    const stranger = await seedKey("user");
    await seedConversation(stranger.id, "conv_foreign-cursor", 1).catch(() => undefined);
    await seedConversation(owner.id, `conv_mine-${crypto.randomUUID()}`, 2);
    const error = await expectOpenAIError(await call("GET", `/v1/conversations?after=${cursor}`, { key: owner.key }), 400, "invalid_cursor");
    expect(error.param).toBe("after");
    expect(error.message).toMatch(/first page/);
  });
});

const Timestamps = z.object({ created_at: z.number(), updated_at: z.number() });

describe("timestamps are Unix seconds", () => {
  it("on a created, listed and read conversation and its messages", async () => {
    const { key } = await seedKey("user");
    const before = Math.floor(Date.now() / 1000);
    const res = await call("POST", "/v1/conversations", { key, body: {} });
    const after = Math.ceil(Date.now() / 1000);
    const created = z.object({ id: z.string() }).merge(Timestamps).parse(await res.json());
    for (const t of [created.created_at, created.updated_at]) {
      expect(Number.isInteger(t)).toBe(true);
      expect(t).toBeGreaterThanOrEqual(before);
      expect(t).toBeLessThanOrEqual(after);
    }
    await env.DB.prepare("INSERT INTO messages (id, conversation_id, seq, role, content, created_at) VALUES (?1, ?2, 1, 'user', 'hi', ?3)")
      .bind(`msg_${crypto.randomUUID()}`, created.id, 1_700_000_123_456)
      .run();
    const read = z
      .object({ messages: z.array(z.object({ created_at: z.number() })) })
      .merge(Timestamps)
      .parse(await (await call("GET", `/v1/conversations/${created.id}`, { key })).json());
    expect(read.created_at).toBe(created.created_at);
    expect(read.messages[0]?.created_at).toBe(1_700_000_123);
    const listed = z.object({ data: z.array(Timestamps) }).parse(await (await call("GET", "/v1/conversations", { key })).json());
    expect(listed.data[0]?.created_at).toBe(created.created_at);
  });
});

const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
const atLimits = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${String(i).padStart(64, "k")}`, "v".repeat(512)]));

describe("metadata caps (OpenAI's: 16 pairs, 64-character keys, 512-character values)", () => {
  it.each([
    ["17 pairs", tooMany, /at most 16 key-value pairs are allowed, got 17/],
    ["a 65-character key", { ["k".repeat(65)]: "v" }, /keys may be at most 64 characters/],
    ["a 513-character value", { title: "v".repeat(513) }, /values may be at most 512 characters/],
  ])("%s is a 400 naming metadata, on create and on update", async (_name, metadata, words) => {
    const { key } = await seedKey("user");
    const onCreate = await expectOpenAIError(await call("POST", "/v1/conversations", { key, body: { metadata } }), 400, "invalid_value");
    expect(onCreate.param).toBe("metadata");
    expect(onCreate.message).toMatch(words);
    const conv = await create(key, {});
    const onUpdate = await expectOpenAIError(await call("POST", `/v1/conversations/${conv.id}`, { key, body: { metadata } }), 400, "invalid_value");
    expect(onUpdate.param).toBe("metadata");
    expect(onUpdate.message).toMatch(words);
  });

  it("exactly at every cap is accepted and read back whole", async () => {
    const { key } = await seedKey("user");
    const res = await call("POST", "/v1/conversations", { key, body: { metadata: atLimits } });
    expect(res.status).toBe(201);
    expect(z.object({ metadata: z.record(z.string(), z.string()) }).parse(await res.json()).metadata).toEqual(atLimits);
  });
});

describe("system prompt that cannot fit the model's window", () => {
  it("is refused at create with param system_prompt, and nothing is stored", async () => {
    const { key } = await seedKey("user");
    // ~6,000 tokens for the 4,096-token test model, within the 32,000-character field limit.
    const error = await expectOpenAIError(
      await call("POST", "/v1/conversations", { key, body: { system_prompt: "lorem ipsum ".repeat(2_600), external_id: "too-long" } }),
      400,
      "context_length_exceeded",
    );
    expect(error.param).toBe("system_prompt");
    expect(error.message).toMatch(/system prompt does not fit the context window of vicuna-13b-v1\.5 \(4096 tokens\)/);
    expect(await visibleIds(key, "?external_id=too-long")).toEqual([]);
  });

  it("a long prompt that still leaves room is accepted", async () => {
    const { key } = await seedKey("user");
    const res = await call("POST", "/v1/conversations", { key, body: { system_prompt: "lorem ipsum ".repeat(600) } });
    expect(res.status).toBe(201);
  });
});

describe("POST /v1/conversations/{id} (update)", () => {
  it("replaces the metadata and returns the conversation", async () => {
    const { key } = await seedKey("user");
    const conv = await create(key, { metadata: { title: "Old", keep: "no" } });
    const res = await call("POST", `/v1/conversations/${conv.id}`, { key, body: { metadata: { title: "Renamed" } } });
    expect(res.status).toBe(200);
    const body = z.object({ id: z.string(), object: z.string(), metadata: z.record(z.string(), z.string()) }).merge(Timestamps).parse(await res.json());
    expect(body).toMatchObject({ id: conv.id, object: "conversation", metadata: { title: "Renamed" } });
    const read = z.object({ metadata: z.record(z.string(), z.string()) }).parse(await (await call("GET", `/v1/conversations/${conv.id}`, { key })).json());
    expect(read.metadata).toEqual({ title: "Renamed" });
  });

  it("another key's conversation is a 404 and keeps its metadata", async () => {
    const owner = await seedKey("user");
    const other = await seedKey("user");
    const conv = await create(owner.key, { metadata: { title: "Mine" } });
    await expectOpenAIError(await call("POST", `/v1/conversations/${conv.id}`, { key: other.key, body: { metadata: { title: "Stolen" } } }), 404, "conversation_not_found");
    const read = z.object({ metadata: z.record(z.string(), z.string()) }).parse(await (await call("GET", `/v1/conversations/${conv.id}`, { key: owner.key })).json());
    expect(read.metadata).toEqual({ title: "Mine" });
  });

  it.each([
    ["no metadata", {}, 400, "invalid_value"],
    ["an unknown field", { metadata: {}, model: "x" }, 400, "unsupported_parameter"],
  ])("with %s is a 400", async (_name, body, status, code) => {
    const { key } = await seedKey("user");
    const conv = await create(key, {});
    await expectOpenAIError(await call("POST", `/v1/conversations/${conv.id}`, { key, body }), status, code);
  });

  it("a bot key's end user cannot update another end user's conversation", async () => {
    const bot = await seedKey("bot");
    const alice = await create(bot.key, { user: "alice" });
    await expectOpenAIError(
      await call("POST", `/v1/conversations/${alice.id}`, { key: bot.key, body: { metadata: { title: "x" }, user: "bob" } }),
      404,
      "conversation_not_found",
    );
  });
});
