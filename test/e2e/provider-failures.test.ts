/**
 * Every way a provider fails ends in our OpenAI error shape with nothing lost: refused
 * connections, 5xx and 429 are retried within the failover deadline, then 503 with Retry-After;
 * a provider's 400 is the client's 400; a hang is cut by the deadline; a stream that breaks
 * mid-answer ends with an error event and the partial reply stored as failed. The provider's key
 * never reaches the client.
 */
import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ErrorBodySchema } from "../../wire/openai.js";
import { ConversationApi } from "./conversation-api.js";
import { PROVIDER_KEY, PROVIDER_MODEL_ID, startProviderStack, type ProviderStack } from "./provider-support.js";

let env: ProviderStack;
let client: OpenAI;
let api: ConversationApi;

beforeAll(async () => {
  env = await startProviderStack();
  client = new OpenAI({ baseURL: `${env.stack.url}/v1`, apiKey: env.stack.userKey, maxRetries: 0 });
  api = new ConversationApi(env.stack.url, env.stack.userKey);
});

afterAll(async () => {
  await env?.stop();
});

beforeEach(() => env.fake.reset());

const chatAttempts = () => env.fake.requests.filter((r) => r.path === "/v1/chat/completions").length;

/** A raw request, to see the status, headers and body exactly as a client gets them. */
async function rawChat(body: Record<string, unknown>): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(`${env.stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.stack.userKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hello" }], ...body }),
  });
  const text = await res.text();
  expect(text).not.toContain(PROVIDER_KEY);
  res.headers.forEach((value) => expect(value).not.toContain(PROVIDER_KEY));
  return { status: res.status, headers: res.headers, text };
}

function errorOf(text: string) {
  return ErrorBodySchema.strict().parse(JSON.parse(text)).error;
}

describe("provider failures before the first token", () => {
  it.each([
    { name: "refused connections", behaviour: { kind: "refuse" as const } },
    { name: "500 on every attempt", behaviour: { kind: "status" as const, status: 500 } },
    { name: "garbage instead of SSE", behaviour: { kind: "garbage" as const } },
  ])("$name: retried, then 503 provider_unavailable", async ({ behaviour }) => {
    env.fake.setDefault(behaviour);
    const { status, headers, text } = await rawChat({});
    expect(status).toBe(503);
    expect(errorOf(text)).toMatchObject({ type: "service_unavailable_error", code: "provider_unavailable" });
    expect(Number(headers.get("retry-after"))).toBeGreaterThan(0);
    expect(chatAttempts()).toBe(3);
  });

  it("a 500 then a success: the retry answers", async () => {
    env.fake.script({ kind: "status", status: 500 });
    const completion = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "again" }] });
    expect(completion.choices[0]?.message.content).toBeTruthy();
    expect(chatAttempts()).toBe(2);
  });

  it("429 with Retry-After longer than the deadline: one attempt, then 503 telling the client when to retry", async () => {
    env.fake.setDefault({ kind: "status", status: 429, headers: { "retry-after": "7" }, body: { error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" } } });
    const { status, headers, text } = await rawChat({});
    expect(status).toBe(503);
    expect(errorOf(text).code).toBe("provider_unavailable");
    expect(headers.get("retry-after")).toBe("7");
    expect(chatAttempts()).toBe(1);
  });

  it("429 with a short Retry-After: waited out, then answered", async () => {
    env.fake.script({ kind: "status", status: 429, headers: { "retry-after": "1" } });
    const started = Date.now();
    const completion = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "patience" }] });
    expect(completion.choices[0]?.message.content).toBeTruthy();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(chatAttempts()).toBe(2);
  });

  it("a provider's 400 is the client's 400, with the provider's words and without its key", async () => {
    env.fake.script({ kind: "status", status: 400, body: { error: { message: `Invalid 'messages': too many. (key ${PROVIDER_KEY})`, type: "invalid_request_error", param: "messages", code: null } } });
    const { status, text } = await rawChat({});
    expect(status).toBe(400);
    const error = errorOf(text);
    expect(error.code).toBe("upstream_rejected");
    expect(error.message).toContain("Invalid 'messages': too many.");
    expect(error.message).toContain("[redacted]");
    expect(chatAttempts()).toBe(1);
  });

  it("a hang is cut by the failover deadline", async () => {
    env.fake.setDefault({ kind: "hang" });
    const started = Date.now();
    const { status, text } = await rawChat({});
    const elapsed = Date.now() - started;
    expect(status).toBe(503);
    expect(errorOf(text).code).toBe("provider_unavailable");
    // FIRST_TOKEN_TIMEOUT_MS 1500 per attempt, FAILOVER_DEADLINE_MS 4000 in all.
    expect(elapsed).toBeGreaterThanOrEqual(1_400);
    expect(elapsed).toBeLessThan(4_000 + 3_000);
  });

  it("a failed conversation turn stores nothing, and the retry works", async () => {
    const conversation = await api.create({ model: PROVIDER_MODEL_ID });
    env.fake.setDefault({ kind: "status", status: 502 });
    const res = await api.raw("POST", `/v1/conversations/${conversation.id}/messages`, { content: "lost?" });
    expect(res.status).toBe(503);
    expect(errorOf(await res.text()).code).toBe("provider_unavailable");
    expect((await api.get(conversation.id)).messages).toEqual([]);

    env.fake.setDefault({ kind: "ok", text: "Here." });
    const retried = await api.send(conversation.id, { content: "lost?" });
    expect(retried.body.choices[0]?.message.content).toBe("Here.");
    expect((await api.get(conversation.id)).messages.map((m) => m.content)).toEqual(["lost?", "Here."]);
  });
});

describe("provider failures mid-stream", () => {
  it("a stream closed after two chunks: the client gets them, then an error event; not retried", async () => {
    env.fake.script({ kind: "close-mid-stream", afterChunks: 2, text: "one two three four five six" });
    const stream = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "count" }], stream: true });
    let text = "";
    const failure = await (async () => {
      try {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
        return null;
      } catch (err) {
        return err;
      }
    })();
    expect(text).toBe("one two th");
    expect(failure).toBeInstanceOf(APIError);
    expect(String((failure as APIError).message)).toMatch(/could not answer/);
    expect(chatAttempts()).toBe(1);
  });

  it("in a conversation, the partial reply is stored as failed and the next turn works", async () => {
    const conversation = await api.create({ model: PROVIDER_MODEL_ID });
    env.fake.script({ kind: "close-mid-stream", afterChunks: 2, text: "one two three four five six" }, { kind: "ok", text: "Fine now." });
    const broken = await api.sendStreamed(conversation.id, { content: "count" });
    expect(broken.status).toBe(200);
    expect(broken.text).toBe("one two th");
    const stored = await api.get(conversation.id);
    expect(stored.messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ["user", "count", null],
      ["assistant", "one two th", "failed"],
    ]);
    const next = await api.send(conversation.id, { content: "again" });
    expect(next.body.choices[0]?.message.content).toBe("Fine now.");
  });

  it("garbage after the first chunk ends the stream with an error event", async () => {
    env.fake.script({ kind: "garbage", afterChunks: 1 });
    const { status, text } = await rawChat({ stream: true });
    expect(status).toBe(200);
    expect(text).toContain("event: error");
    const frame = text.split("event: error\ndata: ")[1]?.split("\n")[0] ?? "";
    expect(errorOf(frame).code).toBe("provider_unavailable");
    expect(chatAttempts()).toBe(1);
  });
});
