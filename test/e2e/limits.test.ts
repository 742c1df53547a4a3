/**
 * Rate limits and quotas end to end, through the real stack (wrangler dev with local D1 and
 * Durable Objects, one simulated GPU worker): the x-ratelimit headers on a success, a 429 after an
 * admin lowers a key's limit, an exhausted daily quota the official `openai` SDK does not retry,
 * per end user limits of a bot key, token settlement visible in GET /v1/usage (after a completion
 * and after a cancelled stream, where the limiter's charge is checked against the ledger), and a
 * concurrency slot freed by a cancelled stream. One stack for the file; key lookups are not
 * cached (AUTH_CACHE_TTL_MS=0) so an admin change applies on the next request.
 */
import { createParser } from "eventsource-parser";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ErrorBodySchema } from "../../wire/openai.js";
import { UsageReport } from "../../wire/usage.js";
import { startStack, type Stack } from "../../scripts/stack.js";
import { waitFor } from "../support/wait.js";

const MODEL = "vicuna-13b-v1.5";
const MESSAGES = [{ role: "user", content: "Tell me about llamas." }];

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    sims: 1,
    // Tokens 8 ms apart: a long reply lasts seconds, so a stream can be cancelled half-way.
    sim: { reply: "lorem", replyLength: "max", ttftBaseMs: 10, prefillMsPerToken: 0, itlMs: 8, itlJitterMs: 0 },
    // A short client stall bound, so a disconnect that breaks the socket mid-write is noticed quickly.
    vars: { AUTH_CACHE_TTL_MS: "0", CLIENT_STALL_TIMEOUT_MS: "2000" },
  });
});

afterAll(async () => {
  await stack?.stop();
});

const CreatedKey = z.object({ id: z.string(), key: z.string() });
const Completion = z.object({ usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }) });
const ChunkBody = z.object({ choices: z.array(z.object({ delta: z.object({ content: z.string().optional() }) })) });

async function createKey(role: "user" | "bot", limits?: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const res = await fetch(`${stack.url}/admin/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name: `limits-${role}`, role, ...(limits ? { limits } : {}) }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return CreatedKey.parse(await res.json());
}

function chat(key: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
  return fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, messages: MESSAGES, ...body }),
    signal,
  });
}

async function errorOf(res: Response): Promise<{ code: string | null; message: string; type: string }> {
  return ErrorBodySchema.parse(await res.json()).error;
}

async function usage(key: string, user?: string): Promise<UsageReport> {
  const res = await fetch(`${stack.url}/v1/usage${user ? `?user=${encodeURIComponent(user)}` : ""}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return UsageReport.parse(await res.json());
}

/** Opens a stream, reads `chunks` content chunks, then disconnects. Returns the text seen. */
async function streamThenCancel(key: string, maxTokens: number, chunks: number): Promise<string> {
  const controller = new AbortController();
  const res = await chat(key, { stream: true, max_tokens: maxTokens }, controller.signal);
  expect(res.status).toBe(200);
  let seen = "";
  let count = 0;
  const parser = createParser({
    onEvent(event) {
      if (event.data === "[DONE]") return;
      const delta = ChunkBody.safeParse(JSON.parse(event.data));
      const text = delta.success ? (delta.data.choices[0]?.delta.content ?? "") : "";
      if (text) {
        seen += text;
        count++;
      }
    },
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  while (count < chunks) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  controller.abort();
  await reader.cancel().catch(() => undefined);
  return seen;
}

describe("rate limits through the gateway", () => {
  it("sends the x-ratelimit headers on a success", async () => {
    const { key } = await createKey("user");
    const res = await chat(key, { max_tokens: 5 });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit-requests")).toBe("600");
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("599");
    expect(res.headers.get("x-ratelimit-reset-requests")).toMatch(/^[\d.hms]+$/);
    expect(res.headers.get("x-ratelimit-limit-tokens")).toBe("200000");
    expect(Number(res.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThan(200_000);
    expect(res.headers.get("x-ratelimit-reset-tokens")).toMatch(/^[\d.hms]+$/);
  });

  it("answers 429 rate_limit_exceeded with Retry-After once an admin lowers the key's requests per minute", async () => {
    const { id, key } = await createKey("user");
    expect((await chat(key, { max_tokens: 3 })).status).toBe(200);
    const patched = await fetch(`${stack.url}/admin/keys/${id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${stack.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ limits: { requests_per_minute: 1 } }),
    });
    expect(patched.status).toBe(200);
    const res = await chat(key, { max_tokens: 3 });
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(res.headers.get("x-ratelimit-limit-requests")).toBe("1");
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(res.headers.get("x-should-retry")).toBeNull();
    const err = await errorOf(res);
    expect(err).toMatchObject({ code: "rate_limit_exceeded", type: "requests" });
    expect(err.message).toContain("requests per minute");
  });

  it("stops the openai SDK from retrying once the daily token quota is used up (x-should-retry: false)", async () => {
    // Size the quota from a measured prompt: the first request fits, the second cannot after it settles.
    const probe = await createKey("user");
    const promptTokens = Completion.parse(await (await chat(probe.key, { max_tokens: 1 })).json()).usage.prompt_tokens;
    const maxTokens = 50;
    const { key } = await createKey("user", { tokens_per_day: promptTokens + maxTokens + 10 });
    expect((await chat(key, { max_tokens: maxTokens })).status).toBe(200);
    // The reservation settles in the background; until then the refusal is a short in-flight one.
    const refusal = await waitFor(async () => {
      const res = await chat(key, { max_tokens: maxTokens });
      if (res.status !== 429) throw new Error(`expected 429, got ${res.status}`);
      const err = await errorOf(res.clone());
      return err.code === "insufficient_quota" ? res : undefined;
    });
    expect(refusal.headers.get("x-should-retry")).toBe("false");
    expect(Number(refusal.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    let requests = 0;
    const client = new OpenAI({
      baseURL: `${stack.url}/v1`,
      apiKey: key,
      maxRetries: 3,
      fetch: async (input, init) => {
        requests++;
        return fetch(input, init);
      },
    });
    const outcome = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: "user", content: "Tell me about llamas." }], max_tokens: maxTokens })
      .then(() => null, (e: unknown) => e);
    expect(outcome).toBeInstanceOf(OpenAI.RateLimitError);
    expect((outcome as InstanceType<typeof OpenAI.RateLimitError>).code).toBe("insufficient_quota");
    expect(requests).toBe(1);
  });

  it("limits each end user of a bot key separately: alice is refused, bob is still served", async () => {
    const { key } = await createKey("bot", { end_user: { requests_per_minute: 1 } });
    expect((await chat(key, { max_tokens: 3, user: "alice" })).status).toBe(200);
    const refused = await chat(key, { max_tokens: 3, user: "alice" });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).not.toBeNull();
    const err = await errorOf(refused);
    expect(err.code).toBe("rate_limit_exceeded");
    expect(err.message).toContain("end user");
    const bob = await chat(key, { max_tokens: 3, user: "bob" });
    expect(bob.status).toBe(200);
    expect(bob.headers.get("x-ratelimit-limit-requests")).toBe("1");
    // The refusal left no trace in the ledger: two requests were served.
    expect((await usage(key)).totals.requests).toBe(2);
  });
});

describe("settlement", () => {
  it("shows a completion's real token usage in GET /v1/usage", async () => {
    const { key } = await createKey("bot");
    const completion = Completion.parse(await (await chat(key, { max_tokens: 20, user: "carol" })).json());
    const report = await waitFor(async () => {
      const r = await usage(key, "carol");
      return r.totals.requests === 1 ? r : undefined;
    });
    expect(report.totals).toMatchObject({
      requests: 1,
      prompt_tokens: completion.usage.prompt_tokens,
      completion_tokens: completion.usage.completion_tokens,
      failures: 0,
    });
    expect(report.today.tokens_used).toBe(completion.usage.prompt_tokens + completion.usage.completion_tokens);
    expect(report.data[0]).toMatchObject({ model: MODEL, requests: 1 });
    // Another end user of the same key sees none of it.
    expect((await usage(key, "dave")).totals.requests).toBe(0);
  });

  it("charges a cancelled stream what it generated, in the ledger and in the limiter alike", async () => {
    const { key } = await createKey("user");
    // A first request measures the estimate (prompt + max_tokens) the limiter reserves for this body.
    const first = await chat(key, { max_tokens: 5 });
    const estimate = 200_000 - Number(first.headers.get("x-ratelimit-remaining-tokens"));
    const firstUsage = Completion.parse(await first.json()).usage;
    const firstCharge = firstUsage.prompt_tokens + firstUsage.completion_tokens;

    const maxTokens = 400;
    const seen = await streamThenCancel(key, maxTokens, 5);
    expect(seen.length).toBeGreaterThan(0);
    const report = await waitFor(async () => {
      const r = await usage(key);
      return r.totals.requests === 2 ? r : undefined;
    });
    const cancelledCompletion = report.totals.completion_tokens - firstUsage.completion_tokens;
    expect(cancelledCompletion).toBeGreaterThanOrEqual(5);
    expect(cancelledCompletion).toBeLessThan(maxTokens);
    const cancelledCharge = report.totals.total_tokens - firstCharge;

    // The limiter settled the cancelled stream to the same count (not its reservation of prompt + 400).
    const third = await chat(key, { max_tokens: 5 });
    expect(third.status).toBe(200);
    expect(Number(third.headers.get("x-ratelimit-remaining-tokens"))).toBe(200_000 - firstCharge - cancelledCharge - estimate);
  });

  it("frees the concurrency slot of a cancelled stream for the next request", async () => {
    const { key } = await createKey("user", { max_concurrent: 1 });
    const controller = new AbortController();
    const running = await chat(key, { stream: true, max_tokens: 400 }, controller.signal);
    expect(running.status).toBe(200);
    const reader = running.body!.getReader();
    await reader.read();
    // While it runs, the one slot is taken.
    const busy = await chat(key, { max_tokens: 3 });
    expect(busy.status).toBe(429);
    expect((await errorOf(busy)).message).toContain("concurrent");
    controller.abort();
    await reader.cancel().catch(() => undefined);
    // Released when the gateway notices the disconnect (well before the 300 s lease expiry).
    const next = await waitFor(async () => {
      const res = await chat(key, { max_tokens: 3 });
      if (res.status === 200) return res;
      expect(res.status).toBe(429);
      await res.body?.cancel();
      return undefined;
    });
    expect(next.status).toBe(200);
  });
});
