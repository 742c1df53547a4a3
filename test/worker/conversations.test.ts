/** Conversation ownership and shape, in workerd against local D1 (no GPU needed). */
import { describe, expect, it } from "vitest";
import { z } from "zod";
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
