/**
 * A provider model through the real gateway, driven by the official openai SDK: requests reach
 * the (loopback fake) provider as messages with the provider's key and the client's sampling
 * fields, answers and usage come back as ours (the provider's numbers), and the usage ledger and
 * server-side conversations work as for pool models. The provider's key never reaches a client.
 */
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { UsageReport } from "../../wire/usage.js";
import { DEFAULT_TEXT, DEFAULT_USAGE, type RecordedRequest } from "../fake-openai/index.js";
import { guardedConversationApi, leakGuard } from "../fake-openai/leak-guard.js";
import { waitFor } from "../support/wait.js";
import { POOL_MODEL, PROVIDER_KEY, PROVIDER_MODEL_ID, startProviderStack, UPSTREAM_MODEL, type ProviderStack } from "./provider-support.js";

let env: ProviderStack;
let client: OpenAI;
const guard = leakGuard();

beforeAll(async () => {
  env = await startProviderStack();
  client = new OpenAI({ baseURL: `${env.stack.url}/v1`, apiKey: env.stack.userKey, maxRetries: 0, fetch: guard.fetch });
});

afterAll(async () => {
  await env?.stop();
});

beforeEach(() => {
  env.fake.reset();
  guard.clear();
});

afterEach(async () => {
  expect(await guard.findLeaks(PROVIDER_KEY)).toEqual([]);
});

/** What the gateway sends a provider, as far as these tests rely on it. */
const ProviderChatBody = z
  .object({
    model: z.string(),
    messages: z.array(z.object({ role: z.string(), content: z.string() })),
    stream: z.literal(true),
    stream_options: z.object({ include_usage: z.literal(true) }).loose(),
  })
  .loose();

function chatRequests(): RecordedRequest[] {
  return env.fake.requests.filter((r) => r.method === "POST" && r.path === "/v1/chat/completions");
}

function onlyChatRequest() {
  const requests = chatRequests();
  expect(requests).toHaveLength(1);
  return { headers: requests[0]!.headers, body: ProviderChatBody.parse(requests[0]!.body) };
}

const guardedKeyClient = (key: string) => new OpenAI({ baseURL: `${env.stack.url}/v1`, apiKey: key, maxRetries: 0, fetch: guard.fetch });

describe("a provider model in /v1/models", () => {
  it("is listed beside the pool model, owned_by provider:<the baseUrl's host>", async () => {
    const models = await client.models.list();
    const owners = Object.fromEntries(models.data.map((m) => [m.id, m.owned_by]));
    expect(owners).toEqual({ [POOL_MODEL.id]: "gpu-pool", [PROVIDER_MODEL_ID]: "provider:127.0.0.1" });
    const card = await client.models.retrieve(PROVIDER_MODEL_ID);
    expect(card).toMatchObject({ id: PROVIDER_MODEL_ID, object: "model", owned_by: "provider:127.0.0.1" });
    // Listing models is the gateway's own business: the provider is not asked.
    expect(env.fake.requests).toEqual([]);
  });
});

describe("chat completions with a provider model", () => {
  it("non-streamed: the provider's text and usage; the provider got messages, its key, the upstream model and every pass-through field", async () => {
    env.fake.script({ kind: "ok", text: "A llama is a camelid.", usage: { prompt_tokens: 41, completion_tokens: 7 } });
    const completion = await client.chat.completions.create({
      model: PROVIDER_MODEL_ID,
      messages: [
        { role: "developer", content: "Be brief." },
        { role: "user", content: "Hi!" },
        { role: "assistant", content: "Hello. Ask me about llamas." },
        { role: "user", content: "What is a llama?" },
      ],
      temperature: 0.3,
      top_p: 0.9,
      stop: ["\n\n", "END"],
      max_tokens: 50,
      presence_penalty: 0.5,
      frequency_penalty: -0.25,
      seed: 7,
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe(PROVIDER_MODEL_ID);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]?.message).toMatchObject({ role: "assistant", content: "A llama is a camelid." });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage).toMatchObject({ prompt_tokens: 41, completion_tokens: 7, total_tokens: 48 });

    const { headers, body } = onlyChatRequest();
    expect(headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(headers["content-type"]).toMatch(/^application\/json/);
    expect(body).toMatchObject({
      model: UPSTREAM_MODEL,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 50,
      temperature: 0.3,
      top_p: 0.9,
      stop: ["\n\n", "END"],
      presence_penalty: 0.5,
      frequency_penalty: -0.25,
      seed: 7,
    });
    expect(body.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi!" },
      { role: "assistant", content: "Hello. Ask me about llamas." },
      { role: "user", content: "What is a llama?" },
    ]);
  });

  it("sends no sampling field the client did not send; max_tokens defaults to the entry's defaultMaxTokens, and max_completion_tokens is honoured", async () => {
    await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "plain" }] });
    const plain = onlyChatRequest().body;
    for (const name of ["temperature", "top_p", "stop", "presence_penalty", "frequency_penalty", "seed", "logit_bias"]) {
      expect(plain, `the provider got '${name}' the client never sent`).not.toHaveProperty(name);
    }
    expect(plain.max_tokens).toBe(1024);

    env.fake.reset();
    await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "capped" }], max_completion_tokens: 77 });
    const capped = onlyChatRequest().body;
    expect(capped.max_tokens ?? capped.max_completion_tokens).toBe(77);
  });

  it("streamed with include_usage: the provider's text as our chunks, ending with the provider's usage", async () => {
    env.fake.script({ kind: "ok", text: "one two three four", chunks: 4, usage: { prompt_tokens: 11, completion_tokens: 4 } });
    const stream = await client.chat.completions.create({
      model: PROVIDER_MODEL_ID,
      messages: [
        { role: "system", content: "Count." },
        { role: "user", content: "count to four" },
      ],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0,
    });
    let text = "";
    let finish: string | null = null;
    const usages: OpenAI.CompletionUsage[] = [];
    let role: string | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      expect(chunk.model).toBe(PROVIDER_MODEL_ID);
      role ??= chunk.choices[0]?.delta.role;
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usages.push(chunk.usage);
    }
    expect(role).toBe("assistant");
    expect(text).toBe("one two three four");
    expect(finish).toBe("stop");
    expect(usages).toHaveLength(1);
    expect(usages[0]).toMatchObject({ prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 });

    const { headers, body } = onlyChatRequest();
    expect(headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(body).toMatchObject({ model: UPSTREAM_MODEL, stream: true, stream_options: { include_usage: true }, temperature: 0 });
    expect(body.messages).toEqual([
      { role: "system", content: "Count." },
      { role: "user", content: "count to four" },
    ]);
  });

  it("streamed without include_usage: no usage chunk reaches the client, though the gateway asked the provider for one", async () => {
    const stream = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hi" }], stream: true });
    let text = "";
    let sawUsage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) sawUsage = true;
    }
    expect(text).toBe(DEFAULT_TEXT);
    expect(sawUsage).toBe(false);
    expect(onlyChatRequest().body.stream_options.include_usage).toBe(true);
  });

  it("a plain request: the fake's default text and usage come through unchanged", async () => {
    const completion = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hi" }] });
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_TEXT);
    expect(completion.usage).toMatchObject({ ...DEFAULT_USAGE, total_tokens: DEFAULT_USAGE.prompt_tokens + DEFAULT_USAGE.completion_tokens });
  });

  it("a provider that reports no usage: the answer still carries usage (the gateway's estimate)", async () => {
    env.fake.script({ kind: "ok", text: "no usage from me", usage: null });
    const completion = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hi" }], max_tokens: 20 });
    expect(completion.choices[0]?.message.content).toBe("no usage from me");
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage?.total_tokens).toBe((completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0));
  });

  it("a request that cannot fit the entry's contextLength is a 400 context_length_exceeded, and the provider is not asked", async () => {
    const err = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hi" }], max_tokens: 130_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, code: "context_length_exceeded" });
    expect(env.fake.requests).toEqual([]);
  });

  it("passes the provider's finish_reason length through", async () => {
    env.fake.script({ kind: "ok", text: "cut sh", finishReason: "length", usage: { prompt_tokens: 3, completion_tokens: 2 } });
    const completion = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "long" }], max_tokens: 2 });
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.choices[0]?.message.content).toBe("cut sh");
  });
});

describe("the usage ledger", () => {
  it("records the provider-reported tokens under the provider model, streamed and not", async () => {
    const key = await env.stack.createKey("user", "provider ledger");
    const own = guardedKeyClient(key);
    env.fake.script({ kind: "ok", usage: { prompt_tokens: 123, completion_tokens: 45 } }, { kind: "ok", usage: { prompt_tokens: 200, completion_tokens: 30 } });
    await own.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hi" }] });
    const stream = await own.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "again" }], stream: true });
    for await (const _ of stream) void _;

    // A stateless completion's ledger row is written after its reply.
    const report = await waitFor(
      async () => {
        const res = await guard.fetch(`${env.stack.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
        expect(res.status).toBe(200);
        const parsed = UsageReport.parse(await res.json());
        return parsed.totals.requests >= 2 ? parsed : undefined;
      },
      15_000,
      "both requests in the ledger",
    );
    expect(report.data.map((d) => d.model)).toEqual([PROVIDER_MODEL_ID]);
    expect(report.data[0]).toMatchObject({ requests: 2, prompt_tokens: 323, completion_tokens: 75, total_tokens: 398, failures: 0 });
    expect(report.totals).toMatchObject({ requests: 2, prompt_tokens: 323, completion_tokens: 75, failures: 0 });
  });
});

describe("a conversation on a provider model", () => {
  it("two turns (non-streamed, then streamed): the provider receives the whole history as messages; both stored complete", async () => {
    const api = guardedConversationApi(guard, env.stack.url, env.stack.userKey);
    const conversation = await api.create({ model: PROVIDER_MODEL_ID, system_prompt: "You are a llama expert." });
    expect(conversation).toMatchObject({ model: PROVIDER_MODEL_ID });
    env.fake.script(
      { kind: "ok", text: "Grass and hay.", usage: { prompt_tokens: 20, completion_tokens: 4 } },
      { kind: "ok", text: "About 20 years.", chunks: 3, usage: { prompt_tokens: 31, completion_tokens: 5 } },
    );

    const first = await api.send(conversation.id, { content: "What do llamas eat?" });
    expect(first.body.model).toBe(PROVIDER_MODEL_ID);
    expect(first.body.choices[0]?.message.content).toBe("Grass and hay.");
    expect(first.body.usage).toMatchObject({ prompt_tokens: 20, completion_tokens: 4 });
    expect(first.headers.get("x-conversation-id")).toBe(conversation.id);

    const second = await api.sendStreamed(conversation.id, { content: "How long do they live?" });
    expect(second.status).toBe(200);
    expect(second.text).toBe("About 20 years.");

    const requests = chatRequests().map((r) => ProviderChatBody.parse(r.body));
    expect(requests).toHaveLength(2);
    for (const request of requests) expect(request).toMatchObject({ model: UPSTREAM_MODEL, stream: true, stream_options: { include_usage: true } });
    expect(requests[0]?.messages).toEqual([
      { role: "system", content: "You are a llama expert." },
      { role: "user", content: "What do llamas eat?" },
    ]);
    expect(requests[1]?.messages).toEqual([
      { role: "system", content: "You are a llama expert." },
      { role: "user", content: "What do llamas eat?" },
      { role: "assistant", content: "Grass and hay." },
      { role: "user", content: "How long do they live?" },
    ]);
    for (const request of chatRequests()) expect(request.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);

    const stored = await api.get(conversation.id);
    expect(stored.messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ["user", "What do llamas eat?", null],
      ["assistant", "Grass and hay.", "complete"],
      ["user", "How long do they live?", null],
      ["assistant", "About 20 years.", "complete"],
    ]);
  });

  it("regenerate asks the provider again with the history before the replaced reply, and stores the new one", async () => {
    const api = guardedConversationApi(guard, env.stack.url, env.stack.userKey);
    const conversation = await api.create({ model: PROVIDER_MODEL_ID, system_prompt: "Be kind." });
    env.fake.script({ kind: "ok", text: "First try." }, { kind: "ok", text: "Second try." });
    await api.send(conversation.id, { content: "Say something." });
    const regenerated = await api.regenerate(conversation.id, { temperature: 1.2 });
    expect(regenerated.body.choices[0]?.message.content).toBe("Second try.");
    const last = ProviderChatBody.parse(chatRequests().at(-1)?.body);
    expect(last.messages).toEqual([
      { role: "system", content: "Be kind." },
      { role: "user", content: "Say something." },
    ]);
    expect(last).toMatchObject({ temperature: 1.2 });
    expect((await api.get(conversation.id)).messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ["user", "Say something.", null],
      ["assistant", "Second try.", "complete"],
    ]);
  });

  it("while a provider turn streams, a second turn is 409 conversation_busy and stores nothing", async () => {
    const api = guardedConversationApi(guard, env.stack.url, env.stack.userKey);
    const conversation = await api.create({ model: PROVIDER_MODEL_ID });
    env.fake.script({ kind: "ok", text: "slow and steady wins", chunks: 5, chunkDelayMs: 400 });
    let started!: () => void;
    const firstText = new Promise<void>((resolve) => (started = resolve));
    const streaming = api.sendStreamed(conversation.id, { content: "take your time" }, { onText: () => started() });
    await firstText;
    const busy = await api.raw("POST", `/v1/conversations/${conversation.id}/messages`, { content: "me too" });
    expect(busy.status).toBe(409);
    expect(await busy.json()).toMatchObject({ error: { code: "conversation_busy" } });
    expect((await streaming).text).toBe("slow and steady wins");
    expect(chatRequests()).toHaveLength(1);
    expect((await api.get(conversation.id)).messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ["user", "take your time", null],
      ["assistant", "slow and steady wins", "complete"],
    ]);
  });

  it("a streaming client that disconnects: the gateway stops reading the provider and stores the partial reply as cancelled", async () => {
    const api = guardedConversationApi(guard, env.stack.url, env.stack.userKey);
    const conversation = await api.create({ model: PROVIDER_MODEL_ID });
    const words = Array.from({ length: 40 }, (_, i) => `w${i} `).join("");
    env.fake.script({ kind: "ok", text: words, chunks: 40, chunkDelayMs: 150 });
    const abort = new AbortController();
    const got = await api.sendStreamed(conversation.id, { content: "go on" }, { signal: abort.signal, onText: (text) => text.length >= 6 && abort.abort() });
    expect(got.text.length).toBeGreaterThanOrEqual(6);
    // Well before the provider would have finished (40 chunks × 150 ms), the gateway has hung up on it.
    const request = chatRequests()[0]!;
    const closedAt = await waitFor(() => request.closedEarlyAt, 5_000, "the gateway to close the provider's stream");
    expect(closedAt - request.at).toBeLessThan(40 * 150);
    const stored = await waitFor(
      async () => {
        const messages = (await api.get(conversation.id)).messages;
        return messages.length === 2 && messages[1]?.status !== null ? messages : undefined;
      },
      15_000,
      "the cancelled reply to be stored",
    );
    expect(stored[1]).toMatchObject({ role: "assistant", status: "cancelled" });
    expect(words.startsWith(stored[1]!.content)).toBe(true);
    expect(stored[1]!.content.startsWith(got.text)).toBe(true);
  });
});
