/** Feedback on assistant messages: set, merge, clear, read back with the conversation; per end user. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { seedConversationWith } from "./conversation-seed.js";
import { call, expectOpenAIError, seedKey } from "./helpers.js";

const FeedbackView = z.object({ rating: z.enum(["up", "down"]).nullable(), flagged: z.boolean(), comment: z.string().nullable() }).strict();
const FeedbackResponse = FeedbackView.extend({ object: z.literal("conversation.message.feedback"), message_id: z.string(), updated_at: z.number().int() }).strict();
const Read = z.object({ messages: z.array(z.object({ id: z.string(), feedback: FeedbackView.nullable() })) });

async function give(key: string, conversationId: string, messageId: string, body: Record<string, unknown>): Promise<z.infer<typeof FeedbackResponse>> {
  const res = await call("POST", `/v1/conversations/${conversationId}/messages/${messageId}/feedback`, { key, body });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return FeedbackResponse.parse(JSON.parse(text));
}

async function feedbackOf(key: string, conversationId: string, messageId: string, user?: string): Promise<z.infer<typeof FeedbackView> | null> {
  const query = user ? `?user=${user}` : "";
  const read = Read.parse(await (await call("GET", `/v1/conversations/${conversationId}${query}`, { key })).json());
  const message = read.messages.find((m) => m.id === messageId);
  if (!message) throw new Error(`message ${messageId} not in the conversation`);
  return message.feedback;
}

describe("feedback on an assistant message", () => {
  it("is stored, merged field by field, read back with the conversation, and cleared", async () => {
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["hi", "hello!"]);
    const reply = conv.messages[1]!;
    expect(await feedbackOf(key, conv.id, reply.id)).toBeNull();

    const before = Math.floor(Date.now() / 1000);
    const up = await give(key, conv.id, reply.id, { rating: "up" });
    expect(up).toMatchObject({ object: "conversation.message.feedback", message_id: reply.id, rating: "up", flagged: false, comment: null });
    expect(up.updated_at).toBeGreaterThanOrEqual(before);
    expect(up.updated_at).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(await feedbackOf(key, conv.id, reply.id)).toEqual({ rating: "up", flagged: false, comment: null });

    // Fields left out stay as they were.
    expect(await give(key, conv.id, reply.id, { flagged: true, comment: "made up a citation" })).toMatchObject({ rating: "up", flagged: true, comment: "made up a citation" });
    expect(await give(key, conv.id, reply.id, { rating: "down" })).toMatchObject({ rating: "down", flagged: true, comment: "made up a citation" });
    expect(await feedbackOf(key, conv.id, reply.id)).toEqual({ rating: "down", flagged: true, comment: "made up a citation" });
    // The user message has none.
    expect(await feedbackOf(key, conv.id, conv.messages[0]!.id)).toBeNull();

    // All empty = cleared: the row is deleted.
    expect(await give(key, conv.id, reply.id, { rating: null, flagged: false, comment: "" })).toMatchObject({ rating: null, flagged: false, comment: null });
    expect(await feedbackOf(key, conv.id, reply.id)).toBeNull();
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM message_feedback WHERE message_id = ?1").bind(reply.id).first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("an empty body changes nothing and answers the stored feedback", async () => {
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q", "a"]);
    await give(key, conv.id, conv.messages[1]!.id, { rating: "up" });
    expect(await give(key, conv.id, conv.messages[1]!.id, {})).toMatchObject({ rating: "up", flagged: false, comment: null });
  });

  it("each end user of a bot key's shared thread has their own feedback", async () => {
    const bot = await seedKey("bot");
    const thread = await seedConversationWith(bot.key, ["question", "answer"], { external_id: `thread-${crypto.randomUUID()}` });
    const reply = thread.messages[1]!.id;
    await give(bot.key, thread.id, reply, { rating: "up", user: "alice" });
    await give(bot.key, thread.id, reply, { rating: "down", user: "bob" });
    expect(await feedbackOf(bot.key, thread.id, reply, "alice")).toEqual({ rating: "up", flagged: false, comment: null });
    expect(await feedbackOf(bot.key, thread.id, reply, "bob")).toEqual({ rating: "down", flagged: false, comment: null });
    expect(await feedbackOf(bot.key, thread.id, reply)).toBeNull();
  });

  it("goes when its message goes (the conversation is deleted)", async () => {
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q", "a"]);
    await give(key, conv.id, conv.messages[1]!.id, { flagged: true });
    expect((await call("DELETE", `/v1/conversations/${conv.id}`, { key })).status).toBe(200);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM message_feedback WHERE message_id = ?1").bind(conv.messages[1]!.id).first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });
});

describe("feedback refused", () => {
  it("on a user message: 400 not_an_assistant_message, nothing stored", async () => {
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q", "a"]);
    const error = await expectOpenAIError(
      await call("POST", `/v1/conversations/${conv.id}/messages/${conv.messages[0]!.id}/feedback`, { key, body: { rating: "up" } }),
      400,
      "not_an_assistant_message",
    );
    expect(error.param).toBe("message_id");
    expect(await feedbackOf(key, conv.id, conv.messages[0]!.id)).toBeNull();
  });

  it("on another owner's conversation: 404, and their feedback is untouched", async () => {
    const owner = await seedKey("user");
    const other = await seedKey("user");
    const conv = await seedConversationWith(owner.key, ["q", "a"]);
    const reply = conv.messages[1]!.id;
    await give(owner.key, conv.id, reply, { rating: "up" });
    await expectOpenAIError(await call("POST", `/v1/conversations/${conv.id}/messages/${reply}/feedback`, { key: other.key, body: { rating: "down" } }), 404, "message_not_found");
    expect(await feedbackOf(owner.key, conv.id, reply)).toEqual({ rating: "up", flagged: false, comment: null });
  });

  it("on another bot end user's conversation: 404", async () => {
    const bot = await seedKey("bot");
    const alice = await seedConversationWith(bot.key, ["q", "a"], { user: "alice" });
    await expectOpenAIError(
      await call("POST", `/v1/conversations/${alice.id}/messages/${alice.messages[1]!.id}/feedback`, { key: bot.key, body: { rating: "up", user: "bob" } }),
      404,
      "message_not_found",
    );
  });

  it("on a message of a different conversation of the same owner: 404", async () => {
    const { key } = await seedKey("user");
    const a = await seedConversationWith(key, ["q", "a"]);
    const b = await seedConversationWith(key, ["q2", "a2"]);
    await expectOpenAIError(await call("POST", `/v1/conversations/${a.id}/messages/${b.messages[1]!.id}/feedback`, { key, body: { rating: "up" } }), 404, "message_not_found");
  });

  it.each([
    ["an unknown message", "msg_nope", { rating: "up" }, 404, "message_not_found"],
    ["a malformed message id", "not-a-message", { rating: "up" }, 404, "message_not_found"],
    ["a bad rating", null, { rating: "meh" }, 400, "invalid_value"],
    ["a comment over 2000 characters", null, { comment: "x".repeat(2001) }, 400, "invalid_value"],
    ["an unknown field", null, { stars: 5 }, 400, "unsupported_parameter"],
  ])("with %s", async (_name, messageId, body, status, code) => {
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q", "a"]);
    await expectOpenAIError(
      await call("POST", `/v1/conversations/${conv.id}/messages/${messageId ?? conv.messages[1]!.id}/feedback`, { key, body }),
      status,
      code,
    );
  });
});
