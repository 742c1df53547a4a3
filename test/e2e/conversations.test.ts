/**
 * Server-side conversations end to end: the running stack with the simulator in echo-prompt mode,
 * so each reply is the exact prompt the GPU received.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";
import { promptRuntime, renderPromptText } from "../../workers/prompt/index.js";
import type { ChatMessage } from "../../wire/openai.js";
import { ConversationApi } from "./conversation-api.js";

let stack: Stack;
let api: ConversationApi;
const vicuna = promptRuntime("vicuna_v1.1", "llama");

beforeAll(async () => {
  // A small window so a long conversation has to lose its oldest turns.
  stack = await startStack({
    sims: 2,
    sim: { reply: "echo-prompt", fast: true },
    vars: { MODELS: JSON.stringify([{ id: "vicuna-13b-v1.5", template: "vicuna_v1.1", contextLength: 512, defaultMaxTokens: 200 }]) },
  });
  api = new ConversationApi(stack.url, stack.userKey);
});

afterAll(async () => {
  await stack?.stop();
});

describe("conversations", () => {
  it("a three-turn conversation sends turn three's exact Vicuna prompt to the GPU", async () => {
    const conv = await api.create({ system_prompt: "You are a helpful llama." });
    const history: ChatMessage[] = [];
    let reply = "";
    for (const content of ["Hi, who are you?", "What do you eat?", "Thanks!"]) {
      const res = await api.send(conv.id, { content });
      history.push({ role: "user", content });
      reply = res.body.choices[0]!.message.content;
      expect(reply).toBe(renderPromptText(vicuna, { system: "You are a helpful llama.", messages: history }));
      history.push({ role: "assistant", content: reply });
      expect(res.headers.get("x-conversation-id")).toBe(conv.id);
      expect(res.headers.get("x-message-id")).toMatch(/^msg_/);
    }
    expect(reply.startsWith("You are a helpful llama. USER: Hi, who are you? ASSISTANT: You are a helpful llama.")).toBe(true);
    expect(reply.endsWith("</s>USER: Thanks! ASSISTANT:")).toBe(true);

    const stored = await api.get(conv.id);
    expect(stored.messages.map((m) => [m.role, m.status])).toEqual([
      ["user", null], ["assistant", "complete"],
      ["user", null], ["assistant", "complete"],
      ["user", null], ["assistant", "complete"],
    ]);
  });

  it("a conversation longer than the window loses its oldest turns and still answers", async () => {
    const conv = await api.create({});
    const filler = "lorem ipsum dolor sit amet ".repeat(12);
    for (let i = 1; i <= 6; i++) await api.send(conv.id, { content: `turn ${i}: ${filler}`, max_tokens: 40 });
    const last = await api.send(conv.id, { content: "final question", max_tokens: 40 });
    // The echo is cut at max_tokens, so its start shows which turn is now the oldest in the prompt.
    const promptStart = last.body.choices[0]!.message.content;
    const oldestKept = /^A chat between .*? USER: turn (\d+):/.exec(promptStart);
    expect(oldestKept).not.toBeNull();
    expect(Number(oldestKept![1])).toBeGreaterThan(1);
    expect(last.body.usage.prompt_tokens).toBeGreaterThan(200);
    expect(last.body.usage.prompt_tokens + 40).toBeLessThanOrEqual(512);
    expect((await api.get(conv.id)).messages).toHaveLength(14);
  });

  it("streams a turn with the conversation and message ids in headers", async () => {
    const conv = await api.create({});
    const { headers, text } = await api.sendStreamed(conv.id, { content: "stream me" });
    expect(headers.get("content-type")).toContain("text/event-stream");
    expect(headers.get("x-conversation-id")).toBe(conv.id);
    expect(text).toBe(renderPromptText(vicuna, { system: null, messages: [{ role: "user", content: "stream me" }] }));
    const stored = await api.get(conv.id);
    expect(stored.messages[1]).toMatchObject({ id: headers.get("x-message-id"), role: "assistant", content: text, status: "complete" });
  });

  it("when a streamed answer ends, it is stored and the next turn may follow at once", async () => {
    const conv = await api.create({});
    for (let i = 0; i < 5; i++) {
      const streamed = await api.sendStreamed(conv.id, { content: `quick ${i}`, max_tokens: 8 });
      expect(streamed.status).toBe(200);
      const stored = await api.get(conv.id);
      expect(stored.messages.at(-1)).toMatchObject({ role: "assistant", content: streamed.text });
    }
    expect((await api.get(conv.id)).messages).toHaveLength(10);
  });

  it("regenerate replaces the last reply instead of adding one", async () => {
    const conv = await api.create({});
    const first = await api.send(conv.id, { content: "again?" });
    const again = await api.regenerate(conv.id, {});
    expect(again.body.choices[0]!.message.content).toBe(first.body.choices[0]!.message.content);
    const stored = await api.get(conv.id);
    expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(stored.messages[1]!.id).toBe(again.headers.get("x-message-id"));
  });

  it("creating with an existing external_id returns the same conversation", async () => {
    const a = await api.create({ external_id: "thread-42" }, 201);
    const b = await api.create({ external_id: "thread-42" }, 200);
    expect(b.id).toBe(a.id);
    const list = await api.list("?external_id=thread-42");
    expect(list.data.map((c) => c.id)).toEqual([a.id]);
  });

  it("lists with cursor pagination", async () => {
    const other = new ConversationApi(stack.url, await stack.createKey("user", "pager"));
    const ids = [];
    // A few ms apart, so creation order is also creation time (ties are ordered by id).
    for (let i = 0; i < 5; i++) {
      ids.push((await other.create({})).id);
      await new Promise((r) => setTimeout(r, 5));
    }
    const page1 = await other.list("?limit=3");
    expect(page1.has_more).toBe(true);
    const page2 = await other.list(`?limit=3&after=${page1.last_id}`);
    expect(page2.has_more).toBe(false);
    const listed = [...page1.data, ...page2.data];
    expect(listed.map((c) => c.id).sort()).toEqual([...ids].sort());
    // Newest first, and the newest is the one created last.
    const times = listed.map((c) => c.created_at);
    expect(times).toEqual([...times].sort((x, y) => y - x));
    expect(listed.map((c) => c.id)).toEqual([...ids].reverse());
  });

  it("the official openai SDK reads, updates and deletes our conversations (times in seconds)", async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.userKey, maxRetries: 0 });
    const before = Math.floor(Date.now() / 1000);
    const created = await client.conversations.create({ metadata: { title: "From the SDK" } });
    expect(created.object).toBe("conversation");
    expect(created.created_at).toBeGreaterThanOrEqual(before);
    expect(created.created_at).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(new Date(created.created_at * 1000).getUTCFullYear()).toBe(new Date().getUTCFullYear());

    const read = await client.conversations.retrieve(created.id);
    expect(read).toMatchObject({ id: created.id, object: "conversation", created_at: created.created_at, metadata: { title: "From the SDK" } });
    const updated = await client.conversations.update(created.id, { metadata: { title: "Renamed" } });
    expect(updated.metadata).toEqual({ title: "Renamed" });
    await expect(client.conversations.update(created.id, { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) })).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    );
    const deleted = await client.conversations.delete(created.id);
    expect(deleted).toMatchObject({ id: created.id, object: "conversation.deleted", deleted: true });
    await expect(client.conversations.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("edit and resend, feedback and a share link over the running stack", async () => {
    const conv = await api.create({ metadata: { title: "Echo" } });
    const first = await api.send(conv.id, { content: "frist question" });
    const edited = await api.send(conv.id, { content: "first question", replaces: first.headers.get("x-user-message-id") });
    expect(edited.body.choices[0]!.message.content).toBe(renderPromptText(vicuna, { system: null, messages: [{ role: "user", content: "first question" }] }));
    const stored = await api.get(conv.id);
    expect(stored.messages.map((m) => m.content)).toEqual(["first question", edited.body.choices[0]!.message.content]);

    const replyId = edited.headers.get("x-message-id")!;
    const feedback = await api.raw("POST", `/v1/conversations/${conv.id}/messages/${replyId}/feedback`, { rating: "up" });
    expect(feedback.status).toBe(200);
    expect((await api.get(conv.id)).messages[1]!.feedback).toEqual({ rating: "up", flagged: false, comment: null });

    const shared = await api.raw("POST", `/v1/conversations/${conv.id}/share`);
    expect(shared.status).toBe(201);
    const { id: shareId, url } = (await shared.json()) as { id: string; url: string };
    expect(url).toBe(`${stack.url}/share/${shareId}`);
    const anonymous = await fetch(`${stack.url}/v1/shares/${shareId}`);
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toMatchObject({ object: "shared_conversation", title: "Echo", model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "first question" }, { role: "assistant" }] });
    expect((await api.raw("DELETE", `/v1/conversations/${conv.id}/share`)).status).toBe(200);
    expect((await fetch(`${stack.url}/v1/shares/${shareId}`)).status).toBe(404);
  });

  it("another key's conversation is a 404 and stays untouched", async () => {
    const conv = await api.create({});
    await api.send(conv.id, { content: "mine" });
    const intruder = new ConversationApi(stack.url, await stack.createKey("user", "intruder"));
    for (const res of [
      await intruder.raw("GET", `/v1/conversations/${conv.id}`),
      await intruder.raw("POST", `/v1/conversations/${conv.id}/messages`, { content: "hijack" }),
      await intruder.raw("POST", `/v1/conversations/${conv.id}/regenerate`, {}),
      await intruder.raw("DELETE", `/v1/conversations/${conv.id}`),
    ]) {
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("conversation_not_found");
    }
    expect((await api.get(conv.id)).messages).toHaveLength(2);
  });

  it("a missing conversation is the SDK-visible 404; a bad turn body is a 400 that stores nothing", async () => {
    const missing = await api.raw("POST", "/v1/conversations/conv_doesnotexist/messages", { content: "hello" });
    expect(missing.status).toBe(404);
    const conv = await api.create({});
    const bad = await api.raw("POST", `/v1/conversations/${conv.id}/messages`, { content: "hi", temperature: "hot" });
    expect(bad.status).toBe(400);
    const tooLong = await api.raw("POST", `/v1/conversations/${conv.id}/messages`, { content: "x ".repeat(300), max_tokens: 400 });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { error: { code: string } }).error.code).toBe("context_length_exceeded");
    expect((await api.get(conv.id)).messages).toHaveLength(0);
  });

  it("deletes a conversation and its messages", async () => {
    const conv = await api.create({});
    await api.send(conv.id, { content: "bye" });
    const del = await api.raw("DELETE", `/v1/conversations/${conv.id}`);
    expect(await del.json()).toEqual({ id: conv.id, object: "conversation.deleted", deleted: true });
    expect((await api.raw("GET", `/v1/conversations/${conv.id}`)).status).toBe(404);
  });

  it("the openai SDK's typed errors cover conversation routes too", async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.userKey, maxRetries: 0 });
    await expect(client.post("/conversations/conv_missing/messages", { body: { content: "x" } })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});
