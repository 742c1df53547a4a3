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

it("serves the web page from static assets with its security headers, and signs in by cookie, under wrangler dev", async () => {
  const page = await fetch(`${stack.url}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toContain("text/html");
  expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  const html = await page.text();
  const script = /<script type="module" src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  expect(script).toBeDefined();
  const asset = await fetch(`${stack.url}${script}`);
  expect(asset.status).toBe(200);
  expect(asset.headers.get("content-type")).toContain("javascript");
  expect(asset.headers.get("x-content-type-options")).toBe("nosniff");
  await asset.arrayBuffer();

  // The Origin the page's own fetches carry: the check must hold under wrangler dev's proxy too.
  const signIn = await fetch(`${stack.url}/auth/session`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: stack.url },
    body: JSON.stringify({ api_key: stack.userKey }),
  });
  expect(signIn.status).toBe(200);
  const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
  const created = await fetch(`${stack.url}/v1/conversations`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: stack.url, cookie },
    body: JSON.stringify({ metadata: { title: "from the page" } }),
  });
  expect(created.status).toBe(201);
});
