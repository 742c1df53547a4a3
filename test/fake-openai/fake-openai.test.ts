/**
 * The fake OpenAI provider itself, driven by the official openai SDK pointed straight at it: it
 * must look like OpenAI to a real client before it can stand in for OpenAI behind the gateway.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, BadRequestError, InternalServerError, RateLimitError } from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/wrangler-cli.js";
import { waitFor } from "../support/wait.js";
import { DEFAULT_TEXT, DEFAULT_USAGE, midStreamText, startFakeOpenAI, type FakeOpenAI } from "./index.js";
import { leakGuard, rawRequest } from "./leak-guard.js";

let fake: FakeOpenAI;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  client = new OpenAI({ baseURL: fake.baseUrl, apiKey: "sk-test-fake", maxRetries: 0, timeout: 10_000, logLevel: "off" });
});

afterAll(async () => {
  await fake?.stop();
});

afterEach(() => fake.reset());

const ask = (extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
  client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], ...extra });

async function drain(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<{ chunks: OpenAI.ChatCompletionChunk[]; text: string; error: unknown }> {
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  let text = "";
  try {
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? "";
    }
    return { chunks, text, error: null };
  } catch (error) {
    return { chunks, text, error };
  }
}

describe("fake OpenAI: answers", () => {
  it("listens on 127.0.0.1 and lists a model", async () => {
    expect(fake.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["gpt-4o-mini"]);
    expect(fake.requests.map((r) => [r.method, r.path])).toEqual([["GET", "/v1/models"]]);
  });

  it("answers a non-streamed request with one chat.completion and usage, and records it", async () => {
    const completion = await ask({ temperature: 0.2, max_tokens: 10 });
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe("gpt-4o-mini");
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]?.message).toMatchObject({ role: "assistant", content: DEFAULT_TEXT });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage).toEqual({ ...DEFAULT_USAGE, total_tokens: DEFAULT_USAGE.prompt_tokens + DEFAULT_USAGE.completion_tokens });

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: "POST", path: "/v1/chat/completions" });
    expect(request?.headers.authorization).toBe("Bearer sk-test-fake");
    expect(request?.body).toEqual({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], temperature: 0.2, max_tokens: 10 });
  });

  it("streams role delta, content deltas, finish chunk, usage chunk and [DONE] when usage is asked for", async () => {
    fake.script({ kind: "ok", text: "abcdefgh", chunks: 4, usage: { prompt_tokens: 5, completion_tokens: 4 } });
    const { chunks, text, error } = await drain(
      await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } }),
    );
    expect(error).toBeNull();
    expect(text).toBe("abcdefgh");
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(chunks[0]?.choices[0]?.delta).toMatchObject({ role: "assistant", content: "" });
    expect(chunks.slice(1, 5).map((c) => c.choices[0]?.delta.content)).toEqual(["ab", "cd", "ef", "gh"]);
    expect(chunks[5]?.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    expect(chunks[6]).toMatchObject({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 } });
    expect(chunks).toHaveLength(7);

    // The wire itself ends with [DONE] (which the SDK consumes silently).
    fake.script({ kind: "ok", text: "xy", chunks: 1 });
    const raw = await rawRequest(fetch, `${fake.baseUrl}/chat/completions`, { method: "POST", key: "k", body: { model: "m", messages: [], stream: true } });
    expect(raw.headers.get("content-type")).toBe("text/event-stream");
    expect(raw.events.at(-1)?.data).toBe("[DONE]");
    expect(raw.events).toHaveLength(4); // role, "xy", finish, [DONE]: no usage chunk unasked
  });

  it("sends no usage chunk when the stream does not ask for one", async () => {
    const { chunks, text } = await drain(await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true }));
    expect(text).toBe(DEFAULT_TEXT);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
  });

  it("plays scripted behaviours in order, then the default; reset restores ok and empties the record", async () => {
    fake.setDefault({ kind: "ok", text: "default" });
    fake.script({ kind: "ok", text: "first" }, { kind: "ok", text: "second" });
    const texts = [];
    for (let i = 0; i < 4; i++) texts.push((await ask()).choices[0]?.message.content);
    expect(texts).toEqual(["first", "second", "default", "default"]);
    expect(fake.requests).toHaveLength(4);
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    expect((await ask()).choices[0]?.message.content).toBe(DEFAULT_TEXT);
  });

  it("usage: null reports no usage, streamed or not", async () => {
    fake.script({ kind: "ok", usage: null }, { kind: "ok", usage: null });
    expect((await ask()).usage).toBeUndefined();
    const { chunks } = await drain(await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } }));
    expect(chunks.some((c) => c.usage)).toBe(false);
  });

  it("chunkDelayMs paces the stream; a client that leaves early is recorded as closedEarlyAt", async () => {
    fake.script({ kind: "ok", text: "abcdefghij", chunks: 10, chunkDelayMs: 100 });
    const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }], stream: true });
    let text = "";
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (text.length >= 2) break; // the SDK aborts the request
    }
    const request = fake.requests[0]!;
    const closedAt = await waitFor(() => request.closedEarlyAt, 5_000, "the close to be recorded");
    expect(closedAt - request.at).toBeLessThan(1_300);

    fake.script({ kind: "ok", text: "abc", chunks: 3, chunkDelayMs: 50 });
    const whole = await drain(await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }], stream: true }));
    expect(whole.text).toBe("abc");
    expect(fake.requests[1]?.closedEarlyAt).toBeUndefined();
  });

  it("honours finishReason length", async () => {
    fake.script({ kind: "ok", finishReason: "length" });
    expect((await ask()).choices[0]?.finish_reason).toBe("length");
  });
});

describe("fake OpenAI: failures as the SDK sees them", () => {
  it("a 429 with retry-after is a RateLimitError carrying the header", async () => {
    fake.script({ kind: "status", status: 429, headers: { "retry-after": "7" }, body: { error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" } } });
    const err = await ask().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).headers.get("retry-after")).toBe("7");
    expect((err as RateLimitError).code).toBe("rate_limit_exceeded");
  });

  it("a 400 with OpenAI's error body is a BadRequestError with its message; a bare 500 an InternalServerError", async () => {
    fake.script(
      { kind: "status", status: 400, body: { error: { message: "Invalid 'messages': empty.", type: "invalid_request_error", param: "messages", code: null } } },
      { kind: "status", status: 500 },
    );
    const bad = await ask().catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect((bad as BadRequestError).message).toContain("Invalid 'messages': empty.");
    expect((bad as BadRequestError).param).toBe("messages");
    expect(await ask().catch((e: unknown) => e)).toBeInstanceOf(InternalServerError);
  });

  it("refuse drops the connection without a response: a connection error", async () => {
    fake.script({ kind: "refuse" });
    const err = await ask().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(fake.requests).toHaveLength(1); // it did read the request
  });

  it("hang never answers: the client's timeout fires; stop() still ends at once", async () => {
    const other = await startFakeOpenAI();
    try {
      other.setDefault({ kind: "hang" });
      const impatient = new OpenAI({ baseURL: other.baseUrl, apiKey: "k", maxRetries: 0, timeout: 300 });
      expect(await impatient.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e)).toBeInstanceOf(APIConnectionTimeoutError);
      // A second hanging request still open when the server stops.
      const pending = impatient.withOptions({ timeout: 60_000 }).chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
      await waitFor(() => (other.requests.length === 2 ? true : undefined), 10_000, "the second hanging request");
      const started = Date.now();
      await other.stop();
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await pending).toBeInstanceOf(APIConnectionError);
    } finally {
      await other.stop();
    }
  });

  it("close-mid-stream delivers N content chunks, then the SDK stream throws", async () => {
    fake.script({ kind: "close-mid-stream", afterChunks: 2 });
    const { text, error } = await drain(await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "count" }], stream: true }));
    expect(text).toBe(midStreamText(2));
    expect(text).toBe("one two");
    expect(error).toBeInstanceOf(Error);
  });

  it("garbage is not SSE JSON: the SDK stream throws, after any good chunks", async () => {
    fake.script({ kind: "garbage" }, { kind: "garbage", afterChunks: 1 });
    const none = await drain(await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }], stream: true }));
    expect(none.text).toBe("");
    expect(none.error).toBeInstanceOf(SyntaxError);
    const one = await drain(await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }], stream: true }));
    expect(one.text).toBe("one");
    expect(one.error).toBeInstanceOf(SyntaxError);
  });

  it("an unknown route is a 404 in OpenAI's shape", async () => {
    const raw = await rawRequest(fetch, `${fake.baseUrl}/embeddings`, { method: "POST", key: "k", body: {} });
    expect(raw.status).toBe(404);
    expect(JSON.parse(raw.text)).toMatchObject({ error: { type: "invalid_request_error" } });
  });
});

describe("the leak guard", () => {
  it("finds a secret in a header or a body, streamed or not, and nothing where there is none", async () => {
    const guard = leakGuard();
    fake.script(
      { kind: "status", status: 401, body: { error: { message: "Incorrect API key provided: sk-secret-123.", type: "invalid_request_error", param: null, code: "invalid_api_key" } } },
      { kind: "status", status: 500, headers: { "x-echo": "sk-secret-123" } },
      { kind: "ok", text: "the key is sk-secret-123", chunks: 4 },
      { kind: "ok", text: "clean" },
    );
    const guarded = new OpenAI({ baseURL: fake.baseUrl, apiKey: "k", maxRetries: 0, fetch: guard.fetch });
    await guarded.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).catch(() => undefined);
    await guarded.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).catch(() => undefined);
    await drain(await guarded.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }], stream: true }));
    expect(await guard.findLeaks("sk-secret-123")).toEqual([
      `${fake.baseUrl}/chat/completions: body (status 401)`,
      `${fake.baseUrl}/chat/completions: header x-echo`,
      `${fake.baseUrl}/chat/completions: streamed text (status 200)`,
    ]);
    guard.clear();
    await guarded.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
    expect(await guard.findLeaks("sk-secret-123")).toEqual([]);
    expect(guard.seen).toHaveLength(1);
  });
});

describe("fake OpenAI: port option", () => {
  it("listens on the port it is given", async () => {
    const port = await freePort();
    const pinned = await startFakeOpenAI({ port });
    try {
      expect(pinned.baseUrl).toBe(`http://127.0.0.1:${port}/v1`);
      const res = await fetch(`${pinned.baseUrl}/models`);
      expect(res.status).toBe(200);
    } finally {
      await pinned.stop();
    }
  });
});
