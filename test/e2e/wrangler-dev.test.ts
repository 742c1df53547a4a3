/**
 * The stack's other runner: the same gateway under `wrangler dev` (what `ALTIPLANO_RUNTIME=wrangler
 * npm start` uses, and what deploys resemble most), answering through the openai SDK.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ sims: 1, sim: { reply: "echo", fast: true }, runtime: "wrangler" });
});

afterAll(async () => {
  await stack?.stop();
});

it("serves a chat completion and a stream under wrangler dev", async () => {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.userKey, maxRetries: 0 });
  const completion = await client.chat.completions.create({ model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "ping over wrangler" }] });
  expect(completion.choices[0]?.message.content).toBe("ping over wrangler");
  let streamed = "";
  const stream = await client.chat.completions.create({ model: "vicuna-13b-v1.5", stream: true, messages: [{ role: "user", content: "stream over wrangler" }] });
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? "";
  expect(streamed).toBe("stream over wrangler");
});
