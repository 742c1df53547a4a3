import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { decodeTokens, encodeText } from "../../workers/prompt/tokenizer.js";
import { promptRuntime, renderPromptText, renderPromptTokens, toChatConversation } from "../../workers/prompt/index.js";
import type { ChatMessage } from "../../wire/openai.js";
import { runtimeFromVersionReply } from "../../gpu-backend/agent/runtime.js";
import { SIMULATOR_VERSION, startSimulator, type RunningSimulator } from "../../gpu-backend/sim/server.js";
import { json, post, readSse } from "./helpers.js";

const KEY = "sk-sim-test";
const Usage = z.object({
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  total_tokens: z.number(),
  prompt_tokens_details: z.object({ cached_tokens: z.number() }),
});
const CompletionChunk = z.object({
  id: z.string().startsWith("cmpl-"),
  object: z.literal("text_completion"),
  created: z.number(),
  model: z.literal("vicuna-13b-v1.5"),
  choices: z.array(z.object({ index: z.literal(0), text: z.string(), finish_reason: z.enum(["stop", "length"]).nullable() })),
  usage: Usage.nullable(),
});
const ChatChunk = z.object({
  id: z.string().startsWith("chatcmpl-"),
  object: z.literal("chat.completion.chunk"),
  choices: z.array(z.object({ delta: z.object({ role: z.literal("assistant").optional(), content: z.string().optional() }), finish_reason: z.enum(["stop", "length"]).nullable() })),
  usage: Usage.optional(),
});

let sim: RunningSimulator;
let echo: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ fast: true, apiKey: KEY, reply: "lorem", replyLength: "max", seeding: "prompt", maxModelLen: 256, workerId: "gpu-a" });
  echo = await startSimulator({ fast: true, reply: "echo-prompt" });
});
afterAll(async () => {
  await sim.stop();
  await echo.stop();
});

describe("completions", () => {
  it("non-streamed: text_completion with usage and cached_tokens", async () => {
    const res = await post(`${sim.url}/v1/completions`, { model: "vicuna-13b-v1.5", prompt: "USER: hi ASSISTANT:", max_tokens: 7 }, { key: KEY });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-worker-id")).toBe("gpu-a");
    const body = z
      .object({ object: z.literal("text_completion"), choices: z.array(z.object({ text: z.string(), finish_reason: z.string() })), usage: Usage })
      .parse(await res.json());
    expect(body.choices[0]!.finish_reason).toBe("length");
    expect(encodeText(body.choices[0]!.text, { leadingSpace: false })).toHaveLength(7);
    expect(body.usage).toMatchObject({ completion_tokens: 7, prompt_tokens: encodeText("USER: hi ASSISTANT:").length + 1 });
  });

  it("streamed: vLLM's SSE shape, finish_reason only on the last token chunk, then usage and [DONE]", async () => {
    const res = await post(`${sim.url}/v1/completions`, { prompt: "Tell me", max_tokens: 5, stream: true, stream_options: { include_usage: true } }, { key: KEY });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const { data, error } = await readSse(res);
    expect(error).toBeNull();
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => CompletionChunk.parse(json(d)));
    const tokenChunks = chunks.filter((c) => c.choices.length > 0);
    expect(tokenChunks).toHaveLength(5);
    expect(tokenChunks.slice(0, -1).every((c) => c.choices[0]!.finish_reason === null && c.usage === null)).toBe(true);
    expect(tokenChunks.at(-1)!.choices[0]!.finish_reason).toBe("length");
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toMatchObject({ completion_tokens: 5 });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it("without include_usage there is no usage chunk", async () => {
    const { data } = await readSse(await post(`${sim.url}/v1/completions`, { prompt: "x", max_tokens: 3, stream: true }, { key: KEY }));
    const chunks = data.slice(0, -1).map((d) => CompletionChunk.parse(json(d)));
    expect(chunks.every((c) => c.choices.length === 1 && c.usage === null)).toBe(true);
  });

  it("a repeated long prompt reports cached tokens, streamed and not", async () => {
    const prompt = `SYSTEM ${"the quick brown fox jumps over the lazy dog ".repeat(8)}USER: hi ASSISTANT:`;
    const first = Usage.parse(z.object({ usage: z.unknown() }).parse(await (await post(`${sim.url}/v1/completions`, { prompt, max_tokens: 2 }, { key: KEY })).json()).usage);
    expect(first.prompt_tokens_details.cached_tokens).toBe(0);
    const { data } = await readSse(await post(`${sim.url}/v1/completions`, { prompt, max_tokens: 2, stream: true, stream_options: { include_usage: true } }, { key: KEY }));
    const usage = CompletionChunk.parse(json(data.at(-2)!)).usage!;
    expect(usage.prompt_tokens).toBe(first.prompt_tokens);
    expect(usage.prompt_tokens_details.cached_tokens).toBe(Math.floor((first.prompt_tokens - 1) / 16) * 16);
    expect(usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
  });

  it("echo-prompt streams exactly the prompt; a token-id prompt echoes its decoding", async () => {
    const text = "Ünïcödé 😀 and 漢字, fine.";
    const { data } = await readSse(await post(`${echo.url}/v1/completions`, { prompt: text, max_tokens: 100, stream: true }));
    const streamed = data.slice(0, -1).map((d) => CompletionChunk.parse(json(d)).choices[0]!.text).join("");
    expect(streamed).toBe(text);

    const ids = [1, ...encodeText("USER: bonjour 🦙 ASSISTANT:")];
    const body = z.object({ choices: z.array(z.object({ text: z.string() })), usage: Usage }).parse(
      await (await post(`${echo.url}/v1/completions`, { prompt: ids, max_tokens: 100 })).json(),
    );
    expect(body.choices[0]!.text).toBe(decodeTokens(ids));
    expect(body.usage.prompt_tokens).toBe(ids.length);
  });

  it("honours stop strings", async () => {
    const body = z.object({ choices: z.array(z.object({ text: z.string(), finish_reason: z.string(), stop_reason: z.string().nullable() })) }).parse(
      await (await post(`${echo.url}/v1/completions`, { prompt: "one two three four", max_tokens: 50, stop: [" three"] })).json(),
    );
    expect(body.choices[0]).toMatchObject({ text: "one two", finish_reason: "stop", stop_reason: " three" });
  });
});

describe("chat completions", () => {
  it("non-streamed and streamed through the simulator's Vicuna template", async () => {
    const messages = [{ role: "user", content: "hello" }];
    const plain = z.object({ object: z.literal("chat.completion"), choices: z.array(z.object({ message: z.object({ role: z.literal("assistant"), content: z.string() }) })), usage: Usage }).parse(
      await (await post(`${sim.url}/v1/chat/completions`, { messages, max_tokens: 4 }, { key: KEY })).json(),
    );
    expect(plain.usage.completion_tokens).toBe(4);

    const { data } = await readSse(await post(`${sim.url}/v1/chat/completions`, { messages, max_tokens: 4, stream: true, stream_options: { include_usage: true } }, { key: KEY }));
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => ChatChunk.parse(json(d)));
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: "assistant", content: "" });
    const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? "")).join("");
    expect(text).toBe(plain.choices[0]!.message.content);
    expect(chunks.at(-1)!.usage?.completion_tokens).toBe(4);
  });

  it("echo mode answers with the last user message", async () => {
    const chatEcho = await startSimulator({ fast: true, reply: "echo" });
    try {
      const body = z.object({ choices: z.array(z.object({ message: z.object({ content: z.string() }), finish_reason: z.string() })) }).parse(
        await (await post(`${chatEcho.url}/v1/chat/completions`, { messages: [{ role: "user", content: "first" }, { role: "assistant", content: "ok" }, { role: "user", content: "say this" }] })).json(),
      );
      expect(body.choices[0]).toMatchObject({ message: { content: "say this" }, finish_reason: "stop" });
    } finally {
      await chatEcho.stop();
    }
  });
});

describe("errors, auth and other routes", () => {
  it("context overflow is a 400 in vLLM's envelope and wording", async () => {
    const res = await post(`${sim.url}/v1/completions`, { prompt: "hello there", max_tokens: 255 }, { key: KEY });
    expect(res.status).toBe(400);
    const prompt = encodeText("hello there").length + 1;
    expect(await res.json()).toEqual({
      error: {
        message: `This model's maximum context length is 256 tokens. However, you requested ${prompt + 255} tokens (${prompt} in the messages, 255 in the completion). Please reduce the length of the messages or completion.`,
        type: "BadRequestError",
        param: null,
        code: 400,
      },
    });
    const long = await post(`${sim.url}/v1/chat/completions`, { messages: [{ role: "user", content: "word ".repeat(300) }] }, { key: KEY });
    expect(long.status).toBe(400);
    expect(z.object({ error: z.object({ message: z.string() }) }).parse(await long.json()).error.message).toMatch(
      /^This model's maximum context length is 256 tokens\. However, you requested \d+ tokens in the messages, Please reduce the length of the messages\.$/,
    );
  });

  it("bad bodies and unknown models are vLLM-shaped errors", async () => {
    const bad = await post(`${sim.url}/v1/completions`, { max_tokens: 3 }, { key: KEY });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: "BadRequestError", code: 400 } });
    const unknown = await post(`${sim.url}/v1/completions`, { model: "gpt-4", prompt: "x" }, { key: KEY });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { message: "The model `gpt-4` does not exist.", type: "NotFoundError", code: 404 } });
  });

  it.each([
    { path: "/v1/completions", init: { method: "POST", body: "{}" }, want: 401 },
    { path: "/v1/models", init: {}, want: 401 },
    { path: "/admin/failure", init: {}, want: 401 },
    { path: "/health", init: {}, want: 200 },
    { path: "/metrics", init: {}, want: 200 },
    { path: "/version", init: {}, want: 200 },
  ])("with --api-key, $path without a key -> $want", async ({ path, init, want }) => {
    const res = await fetch(`${sim.url}${path}`, init);
    expect(res.status).toBe(want);
    expect(res.headers.get("x-worker-id")).toBe("gpu-a");
    if (want === 401) expect(await res.json()).toEqual({ error: "Unauthorized" });
    else await res.arrayBuffer();
  });

  it("a wrong key is refused too", async () => {
    expect((await fetch(`${sim.url}/v1/models`, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
  });

  it("/v1/models, /version, /tokenize and 404", async () => {
    const models = await (await fetch(`${sim.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } })).json();
    expect(models).toMatchObject({ object: "list", data: [{ id: "vicuna-13b-v1.5", object: "model", owned_by: "vllm", max_model_len: 256 }] });
    // The contract with the agent (gpu-backend/agent/runtime.ts): a vLLM-shaped version plus
    // `simulator: true`, open without the api key, so the pool can say "simulator", never a model.
    const version = await fetch(`${sim.url}/version`);
    expect(version.status).toBe(200);
    const versionBody = await version.json();
    expect(versionBody).toMatchObject({ version: SIMULATOR_VERSION, simulator: true });
    expect(runtimeFromVersionReply(versionBody)).toEqual({ kind: "simulator", version: SIMULATOR_VERSION });
    const tok = await (await post(`${sim.url}/tokenize`, { prompt: "hi there" })).json();
    expect(tok).toEqual({ count: 3, max_model_len: 256, tokens: [1, ...encodeText("hi there")], token_strs: null });
    const missing = await fetch(`${sim.url}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-worker-id")).toBe("gpu-a");
    await missing.arrayBuffer();
  });

  it("the default worker id is sim-<port>", async () => {
    const res = await fetch(`${echo.url}/health`);
    expect(res.headers.get("x-worker-id")).toBe(`sim-${echo.port}`);
    expect(echo.workerId).toBe(`sim-${echo.port}`);
    await res.arrayBuffer();
  });
});

describe("sampling fields and the served template", () => {
  it("accepts the sampling fields the gateway passes through (penalties, seed, logit_bias), with vLLM's ranges", async () => {
    const ok = await post(`${echo.url}/v1/completions`, { prompt: "hi", max_tokens: 3, presence_penalty: 0.5, frequency_penalty: -1, seed: -3, logit_bias: { "42": -100 } });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    const chat = await post(`${echo.url}/v1/chat/completions`, { messages: [{ role: "user", content: "hi" }], max_tokens: 3, presence_penalty: 1, seed: 5, logit_bias: {} });
    expect(chat.status).toBe(200);
    await chat.arrayBuffer();
    const bad = await post(`${echo.url}/v1/completions`, { prompt: "hi", presence_penalty: 3 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { message: "presence_penalty: presence_penalty must be in [-2, 2]", param: "presence_penalty" } });
  });

  it("a conversation the template cannot express is a 400 on messages", async () => {
    const res = await post(`${echo.url}/v1/chat/completions`, { messages: [{ role: "assistant", content: "hi" }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: "BadRequestError", param: "messages", code: 400 } });
  });

  it("/tokenize with messages gives the ids the gateway renders (turn ends as EOS)", async () => {
    const messages = [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }];
    const conversation = toChatConversation(messages as ChatMessage[]);
    const tok = z.object({ tokens: z.array(z.number()) }).parse(await (await post(`${echo.url}/tokenize`, { messages })).json());
    expect(tok.tokens).toEqual(renderPromptTokens(promptRuntime("vicuna_v1.1"), conversation));
    expect(tok.tokens).toContain(2);
  });

  it("--template chatml: ChatML's special ids are in the vocabulary, prompts decode and count with the mistral tokenizer", async () => {
    const chatml = await startSimulator({ fast: true, reply: "echo-prompt", template: "chatml" });
    try {
      const runtime = promptRuntime("chatml");
      const conversation = toChatConversation([{ role: "system", content: "Be brief." }, { role: "user", content: "bonjour 🦙" }]);
      const ids = renderPromptTokens(runtime, conversation);
      expect(ids).toContain(32001);
      const body = z.object({ choices: z.array(z.object({ text: z.string() })), usage: Usage }).parse(
        await (await post(`${chatml.url}/v1/completions`, { prompt: ids, max_tokens: 200 })).json(),
      );
      expect(body.choices[0]!.text).toBe(runtime.tokenizer.decode(ids));
      expect(body.choices[0]!.text).toContain("<|im_start|>user\nbonjour 🦙<|im_end|>");
      expect(body.usage.prompt_tokens).toBe(ids.length);

      const chat = z.object({ choices: z.array(z.object({ message: z.object({ content: z.string() }) })), usage: Usage }).parse(
        await (await post(`${chatml.url}/v1/chat/completions`, { messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "bonjour 🦙" }], max_tokens: 200 })).json(),
      );
      expect(chat.choices[0]!.message.content).toBe(renderPromptText(runtime, conversation));
      expect(chat.usage.prompt_tokens).toBe(ids.length);

      const text = z.object({ tokens: z.array(z.number()) }).parse(await (await post(`${chatml.url}/tokenize`, { prompt: "hi there" })).json());
      expect(text.tokens).toEqual([1, ...runtime.tokenizer.encode("hi there")]);

      const outside = await post(`${chatml.url}/v1/completions`, { prompt: [1, 32002] });
      expect(outside.status).toBe(400);
      expect(await outside.json()).toMatchObject({ error: { message: "prompt: token ids must be below the vocabulary size 32002" } });
      const vicunaOutside = await post(`${echo.url}/v1/completions`, { prompt: [1, 32001] });
      expect(await vicunaOutside.json()).toMatchObject({ error: { message: "prompt: token ids must be below the vocabulary size 32000" } });
    } finally {
      await chatml.stop();
    }
  });
});
