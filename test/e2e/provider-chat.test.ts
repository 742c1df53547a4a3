/**
 * A provider model through the real gateway, driven by the official openai SDK: requests reach
 * the (loopback fake) provider as messages with the provider's key, answers and usage come back
 * as ours, and conversations, the usage ledger and limits work as for pool models.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { UsageReport } from "../../wire/usage.js";
import { DEFAULT_TEXT, DEFAULT_USAGE } from "../fake-openai/index.js";
import { waitFor } from "../support/wait.js";
import { ConversationApi } from "./conversation-api.js";
import { PROVIDER_KEY, PROVIDER_MODEL_ID, startProviderStack, UPSTREAM_MODEL, type ProviderStack } from "./provider-support.js";

let env: ProviderStack;
let client: OpenAI;

beforeAll(async () => {
  env = await startProviderStack();
  client = new OpenAI({ baseURL: `${env.stack.url}/v1`, apiKey: env.stack.userKey, maxRetries: 0 });
});

afterAll(async () => {
  await env?.stop();
});

beforeEach(() => env.fake.reset());

const ChatRequest = z.object({
  model: z.string(),
  messages: z.array(z.object({ role: z.string(), content: z.string() })),
  stream: z.boolean(),
  stream_options: z.object({ include_usage: z.boolean() }),
  max_tokens: z.number(),
}).loose();

function lastProviderRequest() {
  const request = env.fake.requests.filter((r) => r.path === "/v1/chat/completions").at(-1);
  if (!request) throw new Error("the provider saw no chat request");
  return { headers: request.headers, body: ChatRequest.parse(request.body) };
}

describe("a provider model", () => {
  it("is listed beside the pool model, owned by its provider", async () => {
    const models = await client.models.list();
    const owners = Object.fromEntries(models.data.map((m) => [m.id, m.owned_by]));
    expect(owners).toEqual({ "vicuna-13b-v1.5": "gpu-pool", [PROVIDER_MODEL_ID]: "provider:127.0.0.1" });
  });

  it("answers a non-streamed completion with the provider's text and usage", async () => {
    const completion = await client.chat.completions.create({
      model: PROVIDER_MODEL_ID,
      messages: [
        { role: "developer", content: "Be brief." },
        { role: "user", content: "What is a llama?" },
      ],
      temperature: 0.3,
      top_p: 0.9,
      stop: ["\n\n"],
      max_tokens: 50,
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
      seed: 7,
    });
    expect(completion.model).toBe(PROVIDER_MODEL_ID);
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_TEXT);
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage).toMatchObject({ ...DEFAULT_USAGE, total_tokens: DEFAULT_USAGE.prompt_tokens + DEFAULT_USAGE.completion_tokens });

    const { headers, body } = lastProviderRequest();
    expect(headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(body).toMatchObject({
      model: UPSTREAM_MODEL,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "What is a llama?" },
      ],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 50,
      temperature: 0.3,
      top_p: 0.9,
      stop: ["\n\n"],
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
      seed: 7,
    });
  });

  it("streams the provider's answer as our chunks, ending with its usage", async () => {
    env.fake.script({ kind: "ok", text: "one two three four", chunks: 4, usage: { prompt_tokens: 11, completion_tokens: 4 } });
    const stream = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "count" }], stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      expect(chunk.model).toBe(PROVIDER_MODEL_ID);
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("one two three four");
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 });
  });

  it("records the provider's numbers in the usage ledger", async () => {
    const key = await env.stack.createKey("user", "provider ledger");
    const own = new OpenAI({ baseURL: `${env.stack.url}/v1`, apiKey: key, maxRetries: 0 });
    env.fake.script({ kind: "ok", usage: { prompt_tokens: 123, completion_tokens: 45 } });
    await own.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hi" }] });
    // The ledger of a stateless completion is written after its reply.
    const report = await waitFor(async () => {
      const res = await fetch(`${env.stack.url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
      const parsed = UsageReport.parse(await res.json());
      return parsed.totals.requests > 0 ? parsed : undefined;
    }, 10_000, "the ledger row");
    const row = report.data.find((d) => d.model === PROVIDER_MODEL_ID);
    expect(row).toMatchObject({ requests: 1, prompt_tokens: 123, completion_tokens: 45, failures: 0 });
  });

  it("serves a stored conversation: the provider receives the whole history as messages", async () => {
    const api = new ConversationApi(env.stack.url, env.stack.userKey);
    const conversation = await api.create({ model: PROVIDER_MODEL_ID, system_prompt: "You are a llama expert." });
    env.fake.script({ kind: "ok", text: "Grass and hay." }, { kind: "ok", text: "About 20 years." });
    const first = await api.send(conversation.id, { content: "What do llamas eat?" });
    expect(first.body.choices[0]?.message.content).toBe("Grass and hay.");
    const second = await api.sendStreamed(conversation.id, { content: "How long do they live?" });
    expect(second.text).toBe("About 20 years.");

    expect(lastProviderRequest().body.messages).toEqual([
      { role: "system", content: "You are a llama expert." },
      { role: "user", content: "What do llamas eat?" },
      { role: "assistant", content: "Grass and hay." },
      { role: "user", content: "How long do they live?" },
    ]);
    const stored = await api.get(conversation.id);
    expect(stored.messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ["user", "What do llamas eat?", null],
      ["assistant", "Grass and hay.", "complete"],
      ["user", "How long do they live?", null],
      ["assistant", "About 20 years.", "complete"],
    ]);
  });

  it("is admitted on an estimate and settled to the provider's usage", async () => {
    const created = await fetch(`${env.stack.url}/admin/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.stack.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "provider limits", role: "user", limits: { tokens_per_minute: 5000 } }),
    });
    const key = z.object({ key: z.string() }).parse(await created.json()).key;
    const own = new OpenAI({ baseURL: `${env.stack.url}/v1`, apiKey: key, maxRetries: 0 });
    env.fake.script({ kind: "ok", usage: { prompt_tokens: 300, completion_tokens: 200 } });
    await own.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hi" }], max_tokens: 1000 });
    // Every /v1 response peeks at the limiter: once the request is settled, it was charged the
    // provider's 500 tokens, not its estimate (more than the 1000 max_tokens).
    const remaining = await waitFor(async () => {
      const res = await fetch(`${env.stack.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
      const value = Number(res.headers.get("x-ratelimit-remaining-tokens"));
      return value === 5000 - 500 ? value : undefined;
    }, 10_000, "settlement to the provider's usage");
    expect(remaining).toBe(4500);
  });
});
