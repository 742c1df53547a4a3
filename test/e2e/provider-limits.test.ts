/**
 * Rate limits with a provider model: a request is admitted on an estimate (the gateway cannot
 * count the provider's tokens), then settled to the usage the provider reports, lower or higher
 * than the estimate; what is left decides the next admission, before the provider is asked.
 * x-ratelimit-remaining-tokens on a generation comes from its admission; on any other /v1
 * response from a peek of the limiter (workers/limits/README.md).
 */
import OpenAI, { RateLimitError } from "openai";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { leakGuard } from "../fake-openai/leak-guard.js";
import { waitFor } from "../support/wait.js";
import { PROVIDER_KEY, PROVIDER_MODEL_ID, startProviderStack, type ProviderStack } from "./provider-support.js";

let env: ProviderStack;
const guard = leakGuard();

beforeAll(async () => {
  env = await startProviderStack();
});

afterAll(async () => {
  await env?.stop();
});

afterEach(async () => {
  expect(await guard.findLeaks(PROVIDER_KEY)).toEqual([]);
});

const CreatedKey = z.object({ id: z.string(), key: z.string() });
const KeyView = z.object({ limits: z.object({ tokens_per_minute: z.number().nullable() }).loose() }).loose();

async function admin(method: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${env.stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${env.stack.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}

/** The key's remaining tokens as a peek shows them, once settlement has brought them to `expected`. */
async function remainingTokensBecomes(key: string, expected: number): Promise<number> {
  let last: string | null = null;
  try {
    return await waitFor(
      async () => {
        const res = await guard.fetch(`${env.stack.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
        await res.text();
        last = res.headers.get("x-ratelimit-remaining-tokens");
        return Number(last) === expected ? expected : undefined;
      },
      15_000,
      `x-ratelimit-remaining-tokens ${expected}`,
    );
  } catch (err) {
    throw new Error(`${String(err)} (last seen: ${last})`);
  }
}

it("a provider request is admitted on an estimate and settled to the provider's reported usage", async () => {
  const created = CreatedKey.parse(await admin("POST", "/admin/keys", { name: "provider limits", role: "user" }));
  const patched = KeyView.parse(await admin("PATCH", `/admin/keys/${created.id}`, { limits: { tokens_per_minute: 5000 } }));
  expect(patched.limits.tokens_per_minute).toBe(5000);
  const client = new OpenAI({ baseURL: `${env.stack.url}/v1`, apiKey: created.key, maxRetries: 0, fetch: guard.fetch });
  env.fake.reset();

  // 1. max_tokens 1000, the provider reports 300 + 200: admitted on ~1000 + a few prompt tokens,
  // settled to 500.
  env.fake.script({ kind: "ok", usage: { prompt_tokens: 300, completion_tokens: 200 } });
  const first = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hi" }], max_tokens: 1000 }).withResponse();
  expect(first.data.usage).toMatchObject({ prompt_tokens: 300, completion_tokens: 200 });
  expect(first.response.headers.get("x-ratelimit-limit-tokens")).toBe("5000");
  const atAdmission = Number(first.response.headers.get("x-ratelimit-remaining-tokens"));
  // The estimate: max_tokens plus a small prompt estimate ("hi" and the message framing).
  expect(atAdmission).toBeLessThanOrEqual(4000);
  expect(atAdmission).toBeGreaterThan(3900);
  expect(await remainingTokensBecomes(created.key, 4500)).toBe(4500);

  // 2. max_tokens 100, but the provider reports 2500 + 1500: settled above the estimate.
  env.fake.script({ kind: "ok", usage: { prompt_tokens: 2500, completion_tokens: 1500 } });
  const second = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hi" }], max_tokens: 100, stream: true, stream_options: { include_usage: true } });
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of second) usage = chunk.usage ?? usage;
  expect(usage).toMatchObject({ prompt_tokens: 2500, completion_tokens: 1500 });
  expect(await remainingTokensBecomes(created.key, 500)).toBe(500);

  // 3. The next request's estimate (1000 + prompt) no longer fits: refused before the provider is asked.
  const asked = env.fake.requests.length;
  const refused = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hi" }], max_tokens: 1000 }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(RateLimitError);
  expect(refused).toMatchObject({ status: 429, code: "rate_limit_exceeded", type: "tokens" });
  expect(Number((refused as RateLimitError).headers.get("retry-after"))).toBeGreaterThan(0);
  expect(env.fake.requests.length).toBe(asked);

  // 4. One that fits in what is left is admitted.
  env.fake.script({ kind: "ok", usage: { prompt_tokens: 50, completion_tokens: 50 } });
  const small = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hi" }], max_tokens: 200 });
  expect(small.usage).toMatchObject({ prompt_tokens: 50, completion_tokens: 50 });
  expect(await remainingTokensBecomes(created.key, 400)).toBe(400);
});

it("provider failures free the concurrency slot; before the first token they are charged nothing, a broken stream what it used", async () => {
  const created = CreatedKey.parse(await admin("POST", "/admin/keys", { name: "provider failures and limits", role: "user" }));
  await admin("PATCH", `/admin/keys/${created.id}`, { limits: { tokens_per_minute: 5000, max_concurrent: 1 } });
  const client = new OpenAI({ baseURL: `${env.stack.url}/v1`, apiKey: created.key, maxRetries: 0, fetch: guard.fetch, logLevel: "off" });
  const ask = (extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
    client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hi" }], max_tokens: 100, ...extra });
  env.fake.reset();

  env.fake.setDefault({ kind: "refuse" });
  expect(await ask().catch((e: unknown) => e)).toMatchObject({ status: 503, code: "provider_unavailable" });
  env.fake.setDefault({ kind: "status", status: 400 });
  expect(await ask().catch((e: unknown) => e)).toMatchObject({ status: 400, code: "upstream_rejected" });
  expect(await remainingTokensBecomes(created.key, 5000)).toBe(5000);

  env.fake.setDefault({ kind: "ok" });
  env.fake.script({ kind: "close-mid-stream", afterChunks: 2 });
  const broken = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "hi" }], max_tokens: 100, stream: true });
  await expect((async () => { for await (const _ of broken) void _; })()).rejects.toBeInstanceOf(Error);
  // Charged the prompt estimate and the partial answer: something, far less than the reservation.
  const charged = await waitFor(
    async () => {
      const res = await guard.fetch(`${env.stack.url}/v1/models`, { headers: { authorization: `Bearer ${created.key}` } });
      await res.text();
      const remaining = Number(res.headers.get("x-ratelimit-remaining-tokens"));
      return remaining > 4900 && remaining < 5000 ? 5000 - remaining : undefined;
    },
    15_000,
    "the broken stream to be settled",
  );
  expect(charged).toBeGreaterThan(0);

  // With max_concurrent 1, any slot a failure had kept would refuse this.
  env.fake.script({ kind: "ok", usage: { prompt_tokens: 10, completion_tokens: 10 } });
  expect((await ask()).usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 10 });
});

it("a request that failed before its first token costs nothing in the ledger either, only a counted failure", async () => {
  const created = CreatedKey.parse(await admin("POST", "/admin/keys", { name: "provider failure ledger", role: "user" }));
  const client = new OpenAI({ baseURL: `${env.stack.url}/v1`, apiKey: created.key, maxRetries: 0, fetch: guard.fetch });
  env.fake.reset();
  env.fake.setDefault({ kind: "refuse" });
  const failed = await client.chat.completions.create({ model: PROVIDER_MODEL_ID, messages: [{ role: "user", content: "x" }], max_tokens: 100 }).catch((e: unknown) => e);
  expect(failed).toMatchObject({ status: 503, code: "provider_unavailable" });
  env.fake.setDefault({ kind: "ok" });
  const UsageRows = z.object({ today: z.object({ tokens_used: z.number() }), data: z.array(z.object({ model: z.string(), requests: z.number(), prompt_tokens: z.number(), completion_tokens: z.number(), failures: z.number() }).loose()) }).loose();
  const report = await waitFor(async () => {
    const res = await guard.fetch(`${env.stack.url}/v1/usage`, { headers: { authorization: `Bearer ${created.key}` } });
    const parsed = UsageRows.parse(await res.json());
    return parsed.data.length > 0 ? parsed : undefined;
  }, 10_000, "the failure's ledger row");
  expect(report.data).toEqual([expect.objectContaining({ model: PROVIDER_MODEL_ID, requests: 1, prompt_tokens: 0, completion_tokens: 0, failures: 1 })]);
  expect(report.today.tokens_used).toBe(0);
  expect(await remainingTokensBecomes(created.key, 200_000)).toBe(200_000);
});
