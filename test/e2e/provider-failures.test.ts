/**
 * Every way a provider fails ends in our OpenAI error shape with nothing lost (stack: MAX_ATTEMPTS
 * 3, FIRST_TOKEN_TIMEOUT_MS 1500, FAILOVER_DEADLINE_MS 4000):
 * - before the first token: refused connections, 5xx, 429 and garbage are tried again, then 503
 *   `provider_unavailable` with Retry-After (the provider's own when it sent one); a provider's 400
 *   is the client's 400 `upstream_rejected`; a hang is cut by the deadline; a conversation turn
 *   that fails stores nothing, so its retry is clean;
 * - mid-stream: the client keeps what it got, the stream ends with an `event: error` frame, the
 *   attempt is not repeated, and a conversation stores the partial reply as `failed`.
 * The provider's key never appears in anything a client receives.
 */
import OpenAI, { APIError, BadRequestError, InternalServerError } from "openai";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ErrorBodySchema } from "../../wire/openai.js";
import { DEFAULT_TEXT, midStreamText, openAIErrorBody, type Behaviour } from "../fake-openai/index.js";
import { guardedConversationApi, leakGuard, rawRequest, type RawAnswer } from "../fake-openai/leak-guard.js";
import type { ConversationApi } from "./conversation-api.js";
import { PROVIDER_KEY, PROVIDER_MODEL_ID, startProviderStack, type ProviderStack } from "./provider-support.js";

const FIRST_TOKEN_TIMEOUT_MS = 1_500;
const FAILOVER_DEADLINE_MS = 4_000;
const MAX_ATTEMPTS = 3;

let env: ProviderStack;
let client: OpenAI;
let api: ConversationApi;
const guard = leakGuard();

beforeAll(async () => {
  env = await startProviderStack();
  client = new OpenAI({ baseURL: `${env.stack.url}/v1`, apiKey: env.stack.userKey, maxRetries: 0, fetch: guard.fetch, logLevel: "off" });
  api = guardedConversationApi(guard, env.stack.url, env.stack.userKey);
});

afterAll(async () => {
  await env?.stop();
});

beforeEach(() => {
  env.fake.reset();
  guard.clear();
});

afterEach(async () => {
  // Every response of the test: error bodies, error frames, headers.
  expect(await guard.findLeaks(PROVIDER_KEY)).toEqual([]);
});

const attempts = () => env.fake.requests.filter((r) => r.method === "POST" && r.path === "/v1/chat/completions").length;

/** A chat completion sent raw, to see the status, headers and body exactly as a client gets them. */
function rawChat(body: Record<string, unknown> = {}): Promise<RawAnswer> {
  return rawRequest(guard.fetch, `${env.stack.url}/v1/chat/completions`, {
    method: "POST",
    key: env.stack.userKey,
    body: { model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hello" }], ...body },
  });
}

function rawTurn(conversationId: string, body: Record<string, unknown>): Promise<RawAnswer> {
  return rawRequest(guard.fetch, `${env.stack.url}/v1/conversations/${conversationId}/messages`, { method: "POST", key: env.stack.userKey, body });
}

/** Our error shape, exactly: {"error":{"message","type","param","code"}} and nothing else. */
function errorOf(text: string) {
  return ErrorBodySchema.extend({ error: ErrorBodySchema.shape.error.strict() }).strict().parse(JSON.parse(text)).error;
}

function expectProviderUnavailable(answer: RawAnswer) {
  expect(answer.status, answer.text).toBe(503);
  expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
  const error = errorOf(answer.text);
  expect(error.code).toBe("provider_unavailable");
  expect(error.type).toBe("service_unavailable_error");
  expect(Number(answer.headers.get("retry-after"))).toBeGreaterThan(0);
  return error;
}

/** The gateway's content deltas and its error frame, from a raw SSE answer. */
function streamParts(answer: RawAnswer): { text: string; errorFrames: string[] } {
  let text = "";
  const errorFrames: string[] = [];
  for (const event of answer.events) {
    if (event.event === "error") errorFrames.push(event.data);
    else if (event.data !== "[DONE]") text += (JSON.parse(event.data) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? "";
  }
  return { text, errorFrames };
}

const every = {
  refuse: { kind: "refuse" },
  status500: { kind: "status", status: 500 },
  garbage: { kind: "garbage" },
} satisfies Record<string, Behaviour>;

describe("provider failures before the first token", () => {
  it.each([
    { name: "refused connections", behaviour: every.refuse, stream: false },
    { name: "refused connections (streamed request)", behaviour: every.refuse, stream: true },
    { name: "500 on every attempt", behaviour: every.status500, stream: false },
    { name: "500 on every attempt (streamed request)", behaviour: every.status500, stream: true },
    { name: "garbage before any chunk", behaviour: every.garbage, stream: false },
  ])("$name: tried MAX_ATTEMPTS times, then 503 provider_unavailable with Retry-After", async ({ behaviour, stream }) => {
    env.fake.setDefault(behaviour);
    const answer = await rawChat(stream ? { stream: true } : {});
    expectProviderUnavailable(answer);
    expect(attempts()).toBe(MAX_ATTEMPTS);
  });

  it("the SDK sees that 503 as a typed error with our code", async () => {
    env.fake.setDefault(every.status500);
    const err = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect(err).toMatchObject({ status: 503, code: "provider_unavailable", type: "service_unavailable_error" });
  });

  it.each([
    { name: "a 500", behaviour: every.status500 },
    { name: "a 503 with OpenAI's error body", behaviour: { kind: "status", status: 503, body: openAIErrorBody("The server is overloaded.") } satisfies Behaviour },
    { name: "a refused connection", behaviour: every.refuse },
    { name: "garbage before any chunk", behaviour: every.garbage },
  ])("$name once, then ok: the retry answers", async ({ behaviour }) => {
    env.fake.script(behaviour);
    const completion = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "again" }] });
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_TEXT);
    expect(attempts()).toBe(2);
  });

  it.each([
    { name: "garbage", behaviour: every.garbage },
    { name: "a role chunk, then a dropped connection", behaviour: { kind: "close-mid-stream", afterChunks: 0 } satisfies Behaviour },
  ])("$name once on a streamed request, then ok: the client sees one clean stream", async ({ behaviour }) => {
    env.fake.script(behaviour, { kind: "ok", text: "clean answer" });
    const answer = await rawChat({ stream: true });
    expect(answer.status).toBe(200);
    const { text, errorFrames } = streamParts(answer);
    expect(text).toBe("clean answer");
    expect(errorFrames).toEqual([]);
    const roles = answer.events.filter((e) => e.data !== "[DONE]" && (JSON.parse(e.data) as { choices: { delta: { role?: string } }[] }).choices[0]?.delta.role);
    expect(roles).toHaveLength(1);
    expect(answer.events.at(-1)?.data).toBe("[DONE]");
    expect(attempts()).toBe(2);
  });

  it("429 with retry-after 7 on every attempt: 503 provider_unavailable passing on retry-after 7 (7 s is past the deadline, so no second attempt)", async () => {
    env.fake.setDefault({ kind: "status", status: 429, headers: { "retry-after": "7" }, body: openAIErrorBody("Rate limit reached for gpt-4o-mini.", "requests", "rate_limit_exceeded") });
    const started = Date.now();
    const answer = await rawChat();
    expectProviderUnavailable(answer);
    expect(answer.headers.get("retry-after")).toBe("7");
    expect(attempts()).toBe(1);
    expect(Date.now() - started).toBeLessThan(FAILOVER_DEADLINE_MS + 3_000);
  });

  it("429 with retry-after 1 once: waited out (per the provider's clock), then answered", async () => {
    env.fake.script({ kind: "status", status: 429, headers: { "retry-after": "1" }, body: openAIErrorBody("Slow down.", "requests", "rate_limit_exceeded") });
    const completion = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "patience" }] });
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_TEXT);
    const [first, second] = env.fake.requests;
    expect(env.fake.requests).toHaveLength(2);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it("a provider's 400 is our 400 upstream_rejected with the provider's words, never its key, not retried", async () => {
    const providerMessage = "Invalid 'messages[0].content': string too long.";
    env.fake.script({ kind: "status", status: 400, body: openAIErrorBody(`${providerMessage} (request made with key ${PROVIDER_KEY})`, "invalid_request_error", null, "messages") });
    const answer = await rawChat();
    expect(answer.status).toBe(400);
    const error = errorOf(answer.text);
    expect(error.code).toBe("upstream_rejected");
    expect(error.type).toBe("invalid_request_error");
    expect(error.message).toContain(providerMessage);
    expect(attempts()).toBe(1);

    env.fake.script({ kind: "status", status: 400, body: openAIErrorBody(providerMessage, "invalid_request_error") });
    const err = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({ status: 400, code: "upstream_rejected" });
    expect((err as BadRequestError).message).toContain(providerMessage);
  });

  it("a provider's 401 echoing the key: not the client's 401, and the key is not passed on", async () => {
    env.fake.script({ kind: "status", status: 401, body: openAIErrorBody(`Incorrect API key provided: ${PROVIDER_KEY}.`, "invalid_request_error", "invalid_api_key") });
    const answer = await rawChat();
    expect(answer.status).not.toBe(401);
    expectProviderUnavailable(answer);
    expect(attempts()).toBe(1);
  });

  it("a hang is cut by the failover deadline: 503 after about FAILOVER_DEADLINE_MS", async () => {
    env.fake.setDefault({ kind: "hang" });
    const started = Date.now();
    const answer = await rawChat();
    const elapsed = Date.now() - started;
    expectProviderUnavailable(answer);
    // At least one first-token timeout; at most the deadline (plus slack for a loaded machine).
    expect(elapsed).toBeGreaterThanOrEqual(FIRST_TOKEN_TIMEOUT_MS - 100);
    expect(elapsed).toBeLessThan(FAILOVER_DEADLINE_MS + 4_000);
    expect(attempts()).toBeGreaterThanOrEqual(1);
    expect(attempts()).toBeLessThanOrEqual(MAX_ATTEMPTS);
  });
});

describe("conversation turns that fail before the first token store nothing", () => {
  it.each([
    { name: "502 every attempt, non-streamed", behaviour: { kind: "status", status: 502 } satisfies Behaviour, stream: false },
    { name: "refused every attempt, streamed", behaviour: every.refuse, stream: true },
    { name: "garbage every attempt, streamed", behaviour: every.garbage, stream: true },
    { name: "hang, streamed", behaviour: { kind: "hang" } satisfies Behaviour, stream: true },
    { name: "the provider's 400, streamed", behaviour: { kind: "status", status: 400, body: openAIErrorBody("Bad request.", "invalid_request_error") } satisfies Behaviour, stream: true },
  ])("$name: an error, no user message left behind, and the retry is clean", async ({ behaviour, stream }) => {
    const conversation = await api.create({ model: PROVIDER_MODEL_ID, system_prompt: "You are a llama." });
    env.fake.script({ kind: "ok", text: "First answer." });
    await api.send(conversation.id, { content: "first question" });
    const before = (await api.get(conversation.id)).messages;
    expect(before.map((m) => [m.role, m.content, m.status])).toEqual([
      ["user", "first question", null],
      ["assistant", "First answer.", "complete"],
    ]);

    env.fake.setDefault(behaviour);
    const failed = await rawTurn(conversation.id, { content: "second question", ...(stream ? { stream: true } : {}) });
    if (behaviour.kind === "status" && behaviour.status === 400) {
      expect(failed.status).toBe(400);
      expect(errorOf(failed.text).code).toBe("upstream_rejected");
    } else {
      expectProviderUnavailable(failed);
    }
    expect((await api.get(conversation.id)).messages).toEqual(before);

    env.fake.reset();
    env.fake.script({ kind: "ok", text: "Second answer." });
    const retried = stream ? await api.sendStreamed(conversation.id, { content: "second question" }) : null;
    if (retried) expect(retried.text).toBe("Second answer.");
    else expect((await api.send(conversation.id, { content: "second question" })).body.choices[0]?.message.content).toBe("Second answer.");
    // The provider sees the history once: no trace of the failed attempt.
    expect(env.fake.requests.at(-1)?.body).toMatchObject({
      messages: [
        { role: "system", content: "You are a llama." },
        { role: "user", content: "first question" },
        { role: "assistant", content: "First answer." },
        { role: "user", content: "second question" },
      ],
    });
    expect((await api.get(conversation.id)).messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ["user", "first question", null],
      ["assistant", "First answer.", "complete"],
      ["user", "second question", null],
      ["assistant", "Second answer.", "complete"],
    ]);
  });
});

describe("provider failures mid-stream", () => {
  it("a stream closed after two chunks: the SDK gets both chunks' text, then throws an APIError; not retried", async () => {
    env.fake.script({ kind: "close-mid-stream", afterChunks: 2 });
    const stream = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "count" }], stream: true });
    let text = "";
    let failure: unknown = null;
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    } catch (err) {
      failure = err;
    }
    expect(text).toBe(midStreamText(2));
    expect(failure).toBeInstanceOf(APIError);
    expect((failure as APIError).message.length).toBeGreaterThan(0);
    expect(attempts()).toBe(1);
  });

  it("on the wire: the chunks, then an `event: error` frame in our error shape", async () => {
    env.fake.script({ kind: "close-mid-stream", afterChunks: 2 });
    const answer = await rawChat({ stream: true });
    expect(answer.status).toBe(200);
    const { text, errorFrames } = streamParts(answer);
    expect(text).toBe(midStreamText(2));
    expect(errorFrames).toHaveLength(1);
    const error = errorOf(errorFrames[0]!);
    expect(error.message.length).toBeGreaterThan(0);
    expect(attempts()).toBe(1);
  });

  it("garbage after the first chunk ends the stream with an error frame; not retried", async () => {
    env.fake.script({ kind: "garbage", afterChunks: 1 });
    const answer = await rawChat({ stream: true });
    expect(answer.status).toBe(200);
    const { text, errorFrames } = streamParts(answer);
    expect(text).toBe(midStreamText(1));
    expect(errorFrames).toHaveLength(1);
    errorOf(errorFrames[0]!);
    expect(attempts()).toBe(1);
  });

  it("in a conversation: the partial reply is stored as failed, and the conversation takes the next turn", async () => {
    const conversation = await api.create({ model: PROVIDER_MODEL_ID });
    env.fake.script({ kind: "close-mid-stream", afterChunks: 2 }, { kind: "ok", text: "Fine now." });
    const broken = await rawTurn(conversation.id, { content: "count", stream: true });
    expect(broken.status).toBe(200);
    const { text, errorFrames } = streamParts(broken);
    expect(text).toBe(midStreamText(2));
    expect(errorFrames).toHaveLength(1);
    errorOf(errorFrames[0]!);
    expect((await api.get(conversation.id)).messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ["user", "count", null],
      ["assistant", midStreamText(2), "failed"],
    ]);

    const next = await api.send(conversation.id, { content: "again" });
    expect(next.body.choices[0]?.message.content).toBe("Fine now.");
    expect((await api.get(conversation.id)).messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ["user", "count", null],
      ["assistant", midStreamText(2), "failed"],
      ["user", "again", null],
      ["assistant", "Fine now.", "complete"],
    ]);
    expect(attempts()).toBe(2);
  });
});
