/**
 * The dashboard's API and moderation on the running stack (the gateway, a simulated GPU worker
 * with its agent, real local D1 and Durable Objects), driven by the official openai SDK and plain
 * HTTP: completions show up in the dashboard history with tokens and time to first token; a user
 * flags a generated reply, an admin finds it with its context, reads and deletes the
 * conversation, and the user then gets 404.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";
import { AdminConversation, DashboardHistory, DashboardSummary, FlagList } from "../../wire/dashboard.js";
import { ConversationApi } from "./conversation-api.js";

const MODEL = "vicuna-13b-v1.5";
/** Counters reach the metrics object within about a second of a request (an isolate's flush interval). */
const HISTORY_DEADLINE_MS = 20_000;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ sims: 1, sim: { reply: "lorem", fast: true } });
});

afterAll(async () => {
  await stack?.stop();
});

async function admin<T>(schema: { parse(value: unknown): T }, method: string, path: string): Promise<T> {
  const res = await fetch(`${stack.url}${path}`, { method, headers: { authorization: `Bearer ${stack.adminKey}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return schema.parse(JSON.parse(text));
}

function totalOf(history: DashboardHistory): { complete: number; promptTokens: number; completionTokens: number; ttftCount: number } {
  return history.buckets.reduce(
    (sum, b) => ({
      complete: sum.complete + b.requests.complete + b.requests.length,
      promptTokens: sum.promptTokens + b.prompt_tokens,
      completionTokens: sum.completionTokens + b.completion_tokens,
      ttftCount: sum.ttftCount + b.ttft_ms.count,
    }),
    { complete: 0, promptTokens: 0, completionTokens: 0, ttftCount: 0 },
  );
}

describe("the dashboard API on the running stack", () => {
  it("counts completions in the last hour's history, with tokens and TTFT, and lists the worker per model", async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.userKey, maxRetries: 0 });
    let completionTokens = 0;
    for (let i = 0; i < 3; i++) {
      const answer = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: `hello ${i}` }], max_tokens: 8 });
      completionTokens += answer.usage?.completion_tokens ?? 0;
    }
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "stream" }], max_tokens: 8, stream: true });
    for await (const _chunk of stream) {
      // Read to the end: the generation is counted when it finishes.
    }
    expect(completionTokens).toBeGreaterThan(0);

    const deadline = Date.now() + HISTORY_DEADLINE_MS;
    let totals = totalOf(await admin(DashboardHistory, "GET", "/admin/dashboard/history?range=hour"));
    while (totals.complete < 4 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      totals = totalOf(await admin(DashboardHistory, "GET", "/admin/dashboard/history?range=hour"));
    }
    expect(totals.complete).toBe(4);
    expect(totals.completionTokens).toBeGreaterThanOrEqual(completionTokens);
    expect(totals.promptTokens).toBeGreaterThan(0);
    expect(totals.ttftCount).toBe(4);
    const day = await admin(DashboardHistory, "GET", "/admin/dashboard/history?range=day");
    expect(totalOf(day).complete).toBe(4);

    const summary = await admin(DashboardSummary, "GET", "/admin/dashboard/summary");
    expect(summary.models.find((m) => m.model === MODEL)).toMatchObject({ ready_workers: 1 });
  });
});

describe("moderation on the running stack", () => {
  it("a flagged reply is listed with its context; the admin reads and deletes the conversation; its owner then gets 404", async () => {
    const user = new ConversationApi(stack.url, stack.userKey);
    const conversation = await user.create({ model: MODEL });
    await user.send(conversation.id, { content: "first question", max_tokens: 8 });
    const flagged = await user.send(conversation.id, { content: "second question", max_tokens: 8 });
    const replyId = flagged.headers.get("x-message-id");
    expect(replyId).toMatch(/^msg_/);
    const flag = await user.raw("POST", `/v1/conversations/${conversation.id}/messages/${replyId}/feedback`, { flagged: true, comment: "offensive" });
    expect(flag.status).toBe(200);

    const flags = await admin(FlagList, "GET", "/admin/flags");
    const item = flags.data.find((f) => f.message.id === replyId);
    expect(item?.message).toMatchObject({ role: "assistant", content: flagged.body.choices[0]?.message.content, feedback: { flagged: 1 } });
    expect(item?.before.map((m) => m.content)).toEqual([expect.any(String), "second question"]);
    expect(item?.conversation).toMatchObject({ id: conversation.id, model: MODEL });
    expect(item?.flags).toEqual([expect.objectContaining({ user: null, comment: "offensive" })]);

    const read = await admin(AdminConversation, "GET", `/admin/conversations/${conversation.id}`);
    expect(read.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);

    const deleted = await fetch(`${stack.url}/admin/conversations/${conversation.id}`, { method: "DELETE", headers: { authorization: `Bearer ${stack.adminKey}` } });
    expect(deleted.status).toBe(200);
    const gone = await user.raw("GET", `/v1/conversations/${conversation.id}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: { code: "conversation_not_found" } });

    const forbidden = await user.raw("GET", "/admin/flags");
    expect(forbidden.status).toBe(403);
  });
});
