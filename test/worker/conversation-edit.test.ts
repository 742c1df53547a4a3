/**
 * Edit and resend (`replaces` on a turn). The plan is pure and tested by table; the route runs in
 * workerd against local D1 with the GPU's HTTP answer canned (fetch to the worker URL), and the
 * prompt the GPU receives is decoded to see what it was built from.
 *
 * The replaced exchange leaves the prompt at once but the store only in the batch that stores the
 * reply: a turn that fails before its first token is undone and loses nothing.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { planEdit, type StoredMessage } from "../../workers/chat/history.js";
import app from "../../workers/index.js";
import { decodeTokens } from "../../workers/prompt/tokenizer.js";
import { appendMessages, seedConversationWith } from "./conversation-seed.js";
import { registerWorker, seedKey } from "./helpers.js";

const u = (id: string): StoredMessage => ({ id, role: "user", content: id });
const a = (id: string, content = id): StoredMessage => ({ id, role: "assistant", content });

describe("planEdit", () => {
  it.each<[string, StoredMessage[], string, { rows: string[]; removed: string[] } | null]>([
    ["the last exchange", [u("u1"), a("a1"), u("u2"), a("a2"), u("new")], "u2", { rows: ["u1", "a1", "new"], removed: ["u2", "a2"] }],
    ["the only exchange", [u("u1"), a("a1"), u("new")], "u1", { rows: ["new"], removed: ["u1", "a1"] }],
    ["an unanswered last user message", [u("u1"), a("a1"), u("u2"), u("new")], "u2", { rows: ["u1", "a1", "new"], removed: ["u2"] }],
    ["a last user message with an empty failed reply", [u("u1"), a("a1", ""), u("new")], "u1", { rows: ["new"], removed: ["u1", "a1"] }],
    ["an earlier user message", [u("u1"), a("a1"), u("u2"), a("a2"), u("new")], "u1", null],
    ["an assistant message", [u("u1"), a("a1"), u("new")], "a1", null],
    ["an unknown id", [u("u1"), a("a1"), u("new")], "msg_nope", null],
    ["the new message itself", [u("u1"), a("a1"), u("new")], "new", null],
    ["an empty conversation", [u("new")], "u1", null],
  ])("replacing %s", (_name, rows, replaces, expected) => {
    const plan = planEdit(rows, replaces, "new");
    if (expected === null) {
      expect(plan.ok).toBe(false);
      return;
    }
    if (!plan.ok) throw new Error(plan.reason);
    expect(plan.rows.map((r) => r.id)).toEqual(expected.rows);
    expect(plan.removedIds).toEqual(expected.removed);
  });
});

const WORKER_URL = "http://gpu-edit-worker.test";

/** What the canned GPU answers, and the prompts it was sent (decoded). */
interface FakeGpu {
  prompts: string[];
  answer: () => Response;
}

function canned(text: string): Response {
  const frames = [
    { choices: [{ index: 0, text, finish_reason: "stop" }] },
    { choices: [], usage: { prompt_tokens: 30, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 0 } } },
  ];
  return new Response(frames.map((f) => `data: ${JSON.stringify(f)}\n\n`).join("") + "data: [DONE]\n\n", { headers: { "content-type": "text/event-stream" } });
}

const PromptRequest = z.object({ prompt: z.array(z.number()) });

function fakeGpu(): FakeGpu {
  const gpu: FakeGpu = { prompts: [], answer: () => canned(" edited answer") };
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(WORKER_URL)) return realFetch(input, init);
    const body = input instanceof Request ? await input.text() : String(init?.body ?? "");
    gpu.prompts.push(decodeTokens(PromptRequest.parse(JSON.parse(body)).prompt));
    return gpu.answer();
  });
  return gpu;
}

async function send(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; text: string }> {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`https://gateway.test${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }),
    env,
    ctx,
  );
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, headers: res.headers, text };
}

const Stored = z.object({ messages: z.array(z.object({ id: z.string(), role: z.string(), content: z.string(), status: z.string().nullable() })) });

async function stored(key: string, id: string): Promise<Array<[string, string]>> {
  const read = await send(key, "GET", `/v1/conversations/${id}`);
  return Stored.parse(JSON.parse(read.text)).messages.map((m) => [m.role, m.content]);
}

beforeEach(() => registerWorker("w-edit", WORKER_URL));
afterEach(() => {
  vi.restoreAllMocks();
});

describe("POST …/messages with `replaces`", () => {
  it("replaces the last user message and its reply with the new message and the new reply", async () => {
    const gpu = fakeGpu();
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["first question", "first answer", "typo'd question", "confused answer"]);
    const res = await send(key, "POST", `/v1/conversations/${conv.id}/messages`, { content: "fixed question", replaces: conv.messages[2]!.id });
    expect(res.status, res.text).toBe(200);
    expect(await stored(key, conv.id)).toEqual([
      ["user", "first question"],
      ["assistant", "first answer"],
      ["user", "fixed question"],
      ["assistant", " edited answer"],
    ]);
    // The prompt was built without the replaced exchange.
    expect(gpu.prompts).toHaveLength(1);
    expect(gpu.prompts[0]).toContain("fixed question");
    expect(gpu.prompts[0]).toContain("first answer");
    expect(gpu.prompts[0]).not.toContain("typo'd question");
    expect(gpu.prompts[0]).not.toContain("confused answer");
    const read = Stored.parse(JSON.parse((await send(key, "GET", `/v1/conversations/${conv.id}`)).text));
    expect(read.messages[2]!.id).toBe(res.headers.get("x-user-message-id"));
    expect(read.messages[3]!.id).toBe(res.headers.get("x-message-id"));
  });

  it("feedback on the replaced reply goes with it", async () => {
    fakeGpu();
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q", "bad answer"]);
    expect((await send(key, "POST", `/v1/conversations/${conv.id}/messages/${conv.messages[1]!.id}/feedback`, { rating: "down" })).status).toBe(200);
    expect((await send(key, "POST", `/v1/conversations/${conv.id}/messages`, { content: "q, better", replaces: conv.messages[0]!.id })).status).toBe(200);
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM message_feedback WHERE message_id = ?1").bind(conv.messages[1]!.id).first<{ n: number }>();
    expect(left?.n).toBe(0);
  });

  it.each([
    ["an earlier user message", 0],
    ["an assistant message", 3],
  ])("replacing %s is a 400 that changes nothing and reaches no GPU", async (_name, index) => {
    const gpu = fakeGpu();
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q1", "a1", "q2", "a2"]);
    const before = await stored(key, conv.id);
    const res = await send(key, "POST", `/v1/conversations/${conv.id}/messages`, { content: "edit", replaces: conv.messages[index]!.id });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: "not_last_user_message", param: "replaces", type: "invalid_request_error" } });
    expect(await stored(key, conv.id)).toEqual(before);
    expect(gpu.prompts).toHaveLength(0);
  });

  it("a message of another conversation cannot be replaced", async () => {
    fakeGpu();
    const { key } = await seedKey("user");
    const mine = await seedConversationWith(key, ["q1", "a1"]);
    const other = await seedConversationWith(key, ["x1", "y1"]);
    const res = await send(key, "POST", `/v1/conversations/${mine.id}/messages`, { content: "edit", replaces: other.messages[0]!.id });
    expect(res.status).toBe(400);
    expect(await stored(key, other.id)).toEqual([["user", "x1"], ["assistant", "y1"]]);
  });

  it("a turn that fails before its first token keeps the old exchange and stores nothing new", async () => {
    const gpu = fakeGpu();
    gpu.answer = () => new Response(JSON.stringify({ error: { message: "boom" } }), { status: 500 });
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q1", "a1", "q2", "a2"]);
    const before = await stored(key, conv.id);
    const res = await send(key, "POST", `/v1/conversations/${conv.id}/messages`, { content: "edited q2", replaces: conv.messages[2]!.id });
    expect(res.status).toBe(503);
    expect(await stored(key, conv.id)).toEqual(before);
    // …and the edit can simply be sent again once a worker answers.
    gpu.answer = () => canned(" second try");
    expect((await send(key, "POST", `/v1/conversations/${conv.id}/messages`, { content: "edited q2", replaces: conv.messages[2]!.id })).status).toBe(200);
    expect(await stored(key, conv.id)).toEqual([["user", "q1"], ["assistant", "a1"], ["user", "edited q2"], ["assistant", " second try"]]);
  });

  it("an unanswered last user message (its turn failed earlier) can be edited", async () => {
    fakeGpu();
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q1", "a1"]);
    const [dangling] = await appendMessages(conv.id, ["never answered"], 2);
    expect((await send(key, "POST", `/v1/conversations/${conv.id}/messages`, { content: "try again", replaces: dangling!.id })).status).toBe(200);
    expect(await stored(key, conv.id)).toEqual([["user", "q1"], ["assistant", "a1"], ["user", "try again"], ["assistant", " edited answer"]]);
  });
});
