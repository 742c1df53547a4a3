/** Share links: publish, re-share (same id, fresh snapshot), read publicly without any key, revoke. */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { appendMessages, seedConversationWith } from "./conversation-seed.js";
import { BASE, call, expectOpenAIError, seedKey } from "./helpers.js";

// Strict copies of the wire shapes, nested objects included: a field the wire schemas would let
// through (a key, an end user, metadata, an id) fails these tests.
const ShareBody = z
  .object({
    object: z.literal("conversation.share"),
    id: z.string(),
    url: z.string(),
    conversation_id: z.string(),
    message_count: z.number().int(),
    created_at: z.number().int(),
  })
  .strict();
const PublicBody = z
  .object({
    object: z.literal("shared_conversation"),
    id: z.string(),
    title: z.string().nullable(),
    model: z.string(),
    created_at: z.number().int(),
    messages: z.array(z.object({ role: z.enum(["user", "assistant"]), content: z.string(), status: z.string().nullable() }).strict()),
  })
  .strict();

async function share(key: string, conversationId: string, status: number, query = ""): Promise<z.infer<typeof ShareBody>> {
  const res = await call("POST", `/v1/conversations/${conversationId}/share${query}`, { key });
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return ShareBody.parse(JSON.parse(text));
}

/** The public read: no Authorization header, no cookie. */
function readPublic(shareId: string): Promise<Response> {
  return SELF.fetch(`${BASE}/v1/shares/${shareId}`);
}

describe("sharing a conversation", () => {
  it("publishes a snapshot anyone with the link reads without a key, and nothing private", async () => {
    const bot = await seedKey("bot");
    const conv = await seedConversationWith(bot.key, ["What is 2+2?", "4."], {
      user: "discord-user-1234",
      system_prompt: "secret system prompt",
      metadata: { title: "Arithmetic", private_note: "do-not-leak" },
    });
    const before = Math.floor(Date.now() / 1000);
    const created = await share(bot.key, conv.id, 201, "?user=discord-user-1234");
    expect(created).toMatchObject({ conversation_id: conv.id, message_count: 2, url: `${BASE}/share/${created.id}` });
    expect(created.created_at).toBeGreaterThanOrEqual(before);
    // shr_ + base64url of at least 128 random bits (22+ characters).
    expect(created.id).toMatch(/^shr_[A-Za-z0-9_-]{22,}$/);

    const res = await readPublic(created.id);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const body = PublicBody.parse(JSON.parse(text));
    expect(body).toEqual({
      object: "shared_conversation",
      id: created.id,
      title: "Arithmetic",
      model: "vicuna-13b-v1.5",
      created_at: created.created_at,
      messages: [
        { role: "user", content: "What is 2+2?", status: null },
        { role: "assistant", content: "4.", status: "complete" },
      ],
    });
    for (const secret of ["discord-user-1234", "do-not-leak", "secret system prompt", conv.id, conv.messages[0]!.id, bot.id, "sk-"]) {
      expect(text).not.toContain(secret);
    }
  });

  it("re-sharing keeps the id and link and refreshes the snapshot; later turns are not in it until then", async () => {
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["one", "uno"], { metadata: { title: "First title" } });
    const first = await share(key, conv.id, 201);
    await appendMessages(conv.id, ["two", "dos"], 2);
    await call("POST", `/v1/conversations/${conv.id}`, { key, body: { metadata: { title: "Second title" } } });

    const stale = PublicBody.parse(await (await readPublic(first.id)).json());
    expect(stale.messages.map((m) => m.content)).toEqual(["one", "uno"]);
    expect(stale.title).toBe("First title");

    const again = await share(key, conv.id, 200);
    expect(again.id).toBe(first.id);
    expect(again.url).toBe(first.url);
    expect(again.message_count).toBe(4);
    const fresh = PublicBody.parse(await (await readPublic(first.id)).json());
    expect(fresh.messages.map((m) => m.content)).toEqual(["one", "uno", "two", "dos"]);
    expect(fresh.title).toBe("Second title");
  });

  it("GET …/share answers the share, or 404 when not shared", async () => {
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q", "a"]);
    await expectOpenAIError(await call("GET", `/v1/conversations/${conv.id}/share`, { key }), 404, "share_not_found");
    const created = await share(key, conv.id, 201);
    const res = await call("GET", `/v1/conversations/${conv.id}/share`, { key });
    expect(res.status).toBe(200);
    expect(ShareBody.parse(await res.json())).toEqual(created);
  });

  it("the url uses the request's own origin", async () => {
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q", "a"]);
    const res = await SELF.fetch(`http://127.0.0.1:8787/v1/conversations/${conv.id}/share`, { method: "POST", headers: { authorization: `Bearer ${key}` } });
    const body = ShareBody.parse(await res.json());
    expect(body.url).toBe(`http://127.0.0.1:8787/share/${body.id}`);
  });

  it("two shares of two conversations get different ids", async () => {
    const { key } = await seedKey("user");
    const a = await share(key, (await seedConversationWith(key, ["q", "a"])).id, 201);
    const b = await share(key, (await seedConversationWith(key, ["q", "a"])).id, 201);
    expect(a.id).not.toBe(b.id);
  });
});

describe("revoking and access", () => {
  it("DELETE revokes at once: the public link is a 404 share_not_found, and sharing again makes a new id", async () => {
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q", "a"]);
    const created = await share(key, conv.id, 201);
    const del = await call("DELETE", `/v1/conversations/${conv.id}/share`, { key });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ id: created.id, object: "conversation.share.deleted", deleted: true });
    await expectOpenAIError(await readPublic(created.id), 404, "share_not_found");
    await expectOpenAIError(await call("GET", `/v1/conversations/${conv.id}/share`, { key }), 404, "share_not_found");
    await expectOpenAIError(await call("DELETE", `/v1/conversations/${conv.id}/share`, { key }), 404, "share_not_found");
    const renewed = await share(key, conv.id, 201);
    expect(renewed.id).not.toBe(created.id);
  });

  it("deleting the conversation deletes its share", async () => {
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q", "a"]);
    const created = await share(key, conv.id, 201);
    expect((await call("DELETE", `/v1/conversations/${conv.id}`, { key })).status).toBe(200);
    await expectOpenAIError(await readPublic(created.id), 404, "share_not_found");
  });

  it("another key cannot share, read the share of, or revoke someone's conversation, nor change their snapshot", async () => {
    const owner = await seedKey("user");
    const other = await seedKey("user");
    const conv = await seedConversationWith(owner.key, ["q", "a"]);
    const created = await share(owner.key, conv.id, 201);
    await expectOpenAIError(await call("POST", `/v1/conversations/${conv.id}/share`, { key: other.key }), 404, "conversation_not_found");
    await expectOpenAIError(await call("GET", `/v1/conversations/${conv.id}/share`, { key: other.key }), 404, "share_not_found");
    await expectOpenAIError(await call("DELETE", `/v1/conversations/${conv.id}/share`, { key: other.key }), 404, "share_not_found");
    const still = PublicBody.parse(await (await readPublic(created.id)).json());
    expect(still.messages).toHaveLength(2);
  });

  it("a bot end user cannot share another end user's conversation", async () => {
    const bot = await seedKey("bot");
    const alice = await seedConversationWith(bot.key, ["q", "a"], { user: "alice" });
    await expectOpenAIError(await call("POST", `/v1/conversations/${alice.id}/share?user=bob`, { key: bot.key }), 404, "conversation_not_found");
  });

  it.each([
    ["an unknown id", "shr_AAAAAAAAAAAAAAAAAAAAAAAA"],
    ["a malformed id", "not-a-share"],
    ["a conversation id", "conv_abc"],
  ])("the public read of %s is a 404 share_not_found that does not echo the id", async (_name, id) => {
    const res = await readPublic(id);
    const text = await res.clone().text();
    await expectOpenAIError(res, 404, "share_not_found");
    expect(text).not.toContain(id);
  });

  it("the owner's share routes still need a key", async () => {
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q", "a"]);
    await expectOpenAIError(await call("POST", `/v1/conversations/${conv.id}/share`, { key: null }), 401, "invalid_api_key");
  });
});
