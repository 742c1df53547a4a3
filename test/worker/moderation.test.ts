/**
 * Moderation and key care through the real Worker and D1: a user flags a reply, an admin lists it
 * with its context and owner, reads and deletes the conversation (the owner then gets 404), keys
 * are renamed and their names shown in /admin/usage; bad input is a 400, unknown ids 404, and
 * other keys 403.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { AdminConversation, FlagList } from "../../wire/dashboard.js";
import { AdminUsageReport } from "../../wire/usage.js";
import { seedConversationWith } from "./conversation-seed.js";
import { call, expectOpenAIError, seedKey, seedUsage } from "./helpers.js";

async function flag(key: string, conversationId: string, messageId: string, body: Record<string, unknown>): Promise<void> {
  const res = await call("POST", `/v1/conversations/${conversationId}/messages/${messageId}/feedback`, { key, body: { flagged: true, ...body } });
  expect(res.status, await res.text()).toBe(200);
}

async function flags(query = ""): Promise<FlagList> {
  const res = await call("GET", `/admin/flags${query}`);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return FlagList.strict().parse(JSON.parse(text));
}

beforeEach(async () => {
  await env.DB.prepare("DELETE FROM message_feedback").run();
});

describe("flagged messages", () => {
  it("are listed newest first with the messages around them, the key and the end user", async () => {
    const owner = await seedKey("user", "acme-support");
    const conv = await seedConversationWith(owner.key, ["q1", "a1 with something bad", "q2", "a2", "q3"]);
    const bad = conv.messages[1]!;
    await flag(owner.key, conv.id, bad.id, { comment: "rude", rating: "down" });

    const bot = await seedKey("bot", "discord-bot");
    const thread = await seedConversationWith(bot.key, ["hello", "hi there"], { user: "discord:42" });
    await flag(bot.key, thread.id, thread.messages[1]!.id, { user: "discord:42" });

    const page = await flags();
    expect(page.data.map((item) => item.message.id)).toEqual([thread.messages[1]!.id, bad.id]);
    expect(page).toMatchObject({ has_more: false, next_cursor: null });

    const [botItem, userItem] = page.data;
    expect(botItem!.conversation).toMatchObject({ id: thread.id, key_id: bot.id, key_name: "discord-bot", user: "discord:42" });
    expect(botItem!.flags).toEqual([{ user: "discord:42", comment: null, flagged_at: botItem!.last_flagged_at }]);

    expect(userItem!.message).toMatchObject({ role: "assistant", content: "a1 with something bad", feedback: { up: 0, down: 1, flagged: 1 } });
    expect(userItem!.before.map((m) => m.content)).toEqual(["q1"]);
    expect(userItem!.after.map((m) => m.content)).toEqual(["q2", "a2"]);
    expect(userItem!.conversation).toMatchObject({ id: conv.id, key_id: owner.id, key_name: "acme-support", user: null, model: "vicuna-13b-v1.5" });
    expect(userItem!.flags).toEqual([{ user: null, comment: "rude", flagged_at: userItem!.last_flagged_at }]);
  });

  it("page with a cursor, and a bad cursor or limit is a 400", async () => {
    const { key } = await seedKey("user");
    const ids: string[] = [];
    for (const text of ["one", "two", "three"]) {
      const conv = await seedConversationWith(key, [`q ${text}`, `a ${text}`]);
      await flag(key, conv.id, conv.messages[1]!.id, {});
      ids.unshift(conv.messages[1]!.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 5; pages++) {
      const page: FlagList = await flags(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      seen.push(...page.data.map((item) => item.message.id));
      cursor = page.next_cursor;
      expect(page.has_more).toBe(cursor !== null);
      if (!cursor) break;
    }
    // Flags made within the same millisecond tie on time; message ids then order them, each exactly once.
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(seen).toHaveLength(3);

    expect((await expectOpenAIError(await call("GET", "/admin/flags?cursor=nonsense"), 400, "invalid_value")).param).toBe("cursor");
    expect((await expectOpenAIError(await call("GET", "/admin/flags?limit=0"), 400, "invalid_value")).param).toBe("limit");
  });
});

describe("an admin reads and deletes any key's conversation", () => {
  it("shows it with its key and feedback; after the delete its owner and the admin get 404", async () => {
    const owner = await seedKey("user", "owner-key");
    const conv = await seedConversationWith(owner.key, ["question", "answer"]);
    await flag(owner.key, conv.id, conv.messages[1]!.id, { comment: "leaks a phone number" });

    const res = await call("GET", `/admin/conversations/${conv.id}`);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const read = AdminConversation.strict().parse(JSON.parse(text));
    expect(read).toMatchObject({ id: conv.id, object: "conversation", key_id: owner.id, key_name: "owner-key", user: null });
    expect(read.messages.map((m) => [m.role, m.content, m.feedback.flagged])).toEqual([
      ["user", "question", 0],
      ["assistant", "answer", 1],
    ]);

    const deleted = await call("DELETE", `/admin/conversations/${conv.id}`);
    expect(await deleted.json()).toEqual({ id: conv.id, object: "conversation.deleted", deleted: true });
    await expectOpenAIError(await call("GET", `/v1/conversations/${conv.id}`, { key: owner.key }), 404, "conversation_not_found");
    await expectOpenAIError(await call("GET", `/admin/conversations/${conv.id}`), 404, "conversation_not_found");
    await expectOpenAIError(await call("DELETE", `/admin/conversations/${conv.id}`), 404, "conversation_not_found");
    expect((await flags()).data.map((item) => item.conversation.id)).not.toContain(conv.id);
  });

  it("an id that cannot exist is a 404", async () => {
    await expectOpenAIError(await call("GET", "/admin/conversations/conv_doesnotexist"), 404, "conversation_not_found");
    await expectOpenAIError(await call("GET", "/admin/conversations/not-an-id"), 404, "conversation_not_found");
  });
});

describe("key care", () => {
  it("renames a key, and /admin/usage shows the new name beside the id", async () => {
    const { id } = await seedKey("user", "before-rename");
    await seedUsage({ owner: { keyId: id, endUser: "" }, model: "vicuna-13b-v1.5", usage: { promptTokens: 5, completionTokens: 3, failed: false }, now: Date.now() });

    const res = await call("PATCH", `/admin/keys/${id}`, { body: { name: "  after-rename " } });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ id, name: "after-rename" });

    const usage = AdminUsageReport.strict().parse(await (await call("GET", `/admin/usage?key_id=${id}`)).json());
    expect(usage.data).toEqual([expect.objectContaining({ key_id: id, key_name: "after-rename", total_tokens: 8 })]);
  });

  it("refuses an empty or overlong name (400), an unknown key (404)", async () => {
    const { id } = await seedKey("user");
    expect((await expectOpenAIError(await call("PATCH", `/admin/keys/${id}`, { body: { name: "   " } }), 400, "invalid_value")).param).toBe("name");
    expect((await expectOpenAIError(await call("PATCH", `/admin/keys/${id}`, { body: { name: "x".repeat(129) } }), 400, "invalid_value")).param).toBe("name");
    await expectOpenAIError(await call("PATCH", `/admin/keys/${id}`, { body: {} }), 400, "invalid_value");
    await expectOpenAIError(await call("PATCH", "/admin/keys/key_unknown", { body: { name: "x" } }), 404, "not_found");
  });
});

describe("moderation is admin only", () => {
  it("a user key gets 403 on every moderation route", async () => {
    const { id, key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["mine", "reply"]);
    await expectOpenAIError(await call("GET", "/admin/flags", { key }), 403, "forbidden");
    await expectOpenAIError(await call("GET", `/admin/conversations/${conv.id}`, { key }), 403, "forbidden");
    await expectOpenAIError(await call("DELETE", `/admin/conversations/${conv.id}`, { key }), 403, "forbidden");
    await expectOpenAIError(await call("PATCH", `/admin/keys/${id}`, { key, body: { name: "mine now" } }), 403, "forbidden");
    // Still there for its owner.
    expect((await call("GET", `/v1/conversations/${conv.id}`, { key })).status).toBe(200);
  });
});
