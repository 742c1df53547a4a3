/**
 * What a client's request body turns into: validation messages that say what was expected, the
 * sampling fields common tools send accepted and passed through to vLLM, `developer` read as
 * `system`, and what cannot be honoured refused by name.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { call, expectOpenAIError, registerWorker, seedKey } from "./helpers.js";

const MODEL = "vicuna-13b-v1.5";
const WORKER_URL = "http://validation-worker.test";
const chat = (body: Record<string, unknown>) => ({ model: MODEL, messages: [{ role: "user", content: "hi" }], ...body });

let key: string;
beforeAll(async () => {
  key = (await seedKey("user")).key;
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("validation messages say what was expected", () => {
  it.each<{ name: string; body: Record<string, unknown>; param: string; message: RegExp }>([
    { name: "stop of numbers", body: chat({ stop: [1, 2] }), param: "stop", message: /expected a string or an array of up to 4 non-empty strings/ },
    { name: "stop of five strings", body: chat({ stop: ["a", "b", "c", "d", "e"] }), param: "stop", message: /expected a string or an array of up to 4 non-empty strings/ },
    { name: "content of a number", body: { model: MODEL, messages: [{ role: "user", content: 42 }] }, param: "messages.0.content", message: /expected a string or an array of text parts/ },
    { name: "an image part", body: { model: MODEL, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] }, param: "messages.0.content", message: /array of text parts/ },
    { name: "an unknown role", body: { model: MODEL, messages: [{ role: "tool", content: "x" }] }, param: "messages.0.role", message: /expected one of the roles system, developer, user, assistant/ },
    { name: "truncation of a wrong value", body: chat({ truncation: "sometimes" }), param: "truncation", message: /auto|disabled/ },
    { name: "presence_penalty out of range", body: chat({ presence_penalty: 3 }), param: "presence_penalty", message: /2/ },
  ])("$name", async ({ body, param, message }) => {
    const err = await expectOpenAIError(await call("POST", "/v1/chat/completions", { key, body }), 400, "invalid_value");
    expect(err.param).toBe(param);
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/Invalid input/);
  });

  it("top_logprobs cannot be honoured either: refused by name", async () => {
    const err = await expectOpenAIError(await call("POST", "/v1/chat/completions", { key, body: chat({ top_logprobs: 2 }) }), 400, "unsupported_parameter");
    expect(err.param).toBe("top_logprobs");
  });
});

describe("what common tools send is accepted and reaches vLLM", () => {
  it("passes presence/frequency penalties, seed and logit_bias through; logprobs: false and developer are fine", async () => {
    await registerWorker("validation-w1", WORKER_URL);
    const sent: unknown[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith(WORKER_URL)) return realFetch(input, init);
      sent.push(JSON.parse(String(init?.body)));
      const frames = [{ choices: [{ index: 0, text: " ok", finish_reason: "stop" }] }, { choices: [], usage: { prompt_tokens: 40, completion_tokens: 1 } }];
      return new Response(frames.map((f) => `data: ${JSON.stringify(f)}\n\n`).join("") + "data: [DONE]\n\n", { headers: { "content-type": "text/event-stream" } });
    });

    const res = await call("POST", "/v1/chat/completions", {
      key,
      body: {
        model: MODEL,
        messages: [
          { role: "developer", content: "Be brief." },
          { role: "user", content: "hi" },
        ],
        presence_penalty: 0.5,
        frequency_penalty: -0.5,
        seed: 42,
        logit_bias: { "2": -100 },
        logprobs: false,
        n: 1,
      },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(sent).toHaveLength(1);
    const body = z.object({ prompt: z.array(z.number()) }).loose().parse(sent[0]);
    expect(body).toMatchObject({ presence_penalty: 0.5, frequency_penalty: -0.5, seed: 42, logit_bias: { "2": -100 } });
    expect(body).not.toHaveProperty("logprobs");
    // The developer message became the system prompt: the default Vicuna system text is gone.
    const withDefaultSystem = await call("POST", "/v1/chat/completions", { key, body: { model: MODEL, messages: [{ role: "user", content: "hi" }] } });
    expect(withDefaultSystem.status).toBe(200);
    const other = z.object({ prompt: z.array(z.number()) }).loose().parse(sent[1]);
    expect(body.prompt.length).toBeLessThan(other.prompt.length);
  });
});
