/**
 * The daily-quota 429's words through the real Worker and the real limiter: the figures agree
 * with each other (Left = Limit − Used) and with x-ratelimit-remaining-tokens, for several
 * limits and amounts used, with and without tokens still reserved by requests in flight.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admitRequest } from "../../workers/limits/client.js";
import { call, expectOpenAIError } from "./helpers.js";
import { keyLimits } from "./limits-helpers.js";

/** A key with a daily token limit, its id, and one conversation to send turns to. */
async function keyWithDailyLimit(tokensPerDay: number): Promise<{ id: string; key: string; conversationId: string }> {
  const res = await call("POST", "/admin/keys", { body: { name: `quota-${tokensPerDay}`, role: "user", limits: { tokens_per_day: tokensPerDay } } });
  expect(res.status).toBe(201);
  const { id, key } = (await res.json()) as { id: string; key: string };
  const created = await call("POST", "/v1/conversations", { key, body: {} });
  expect(created.status).toBe(201);
  return { id, key, conversationId: ((await created.json()) as { id: string }).id };
}

/** Uses `tokens` of the key's day as a finished generation would (admitted, then settled). */
async function use(keyId: string, tokensPerDay: number, tokens: number, settle: boolean): Promise<void> {
  const admitted = await admitRequest(env, { keyId, limits: keyLimits({ tokensPerDay }), estimatedTokens: tokens, requestId: `seed-${crypto.randomUUID()}` });
  if (!admitted.ok) throw new Error(`seeding ${tokens} tokens was refused: ${admitted.error.message}`);
  if (settle) await admitted.settle(tokens);
}

describe("daily quota 429: the words add up", () => {
  // A turn of "hi" is admitted on 1 token (4 characters a token) plus its max_tokens.
  it.each<{ limit: number; settled: number; inFlight: number; maxTokens: number; figures: string; left: number; code: string }>([
    { limit: 100, settled: 70, inFlight: 0, maxTokens: 39, figures: "Limit 100, Used 70, Left 30, Requested 40", left: 30, code: "insufficient_quota" },
    { limit: 1000, settled: 999, inFlight: 0, maxTokens: 9, figures: "Limit 1000, Used 999, Left 1, Requested 10", left: 1, code: "insufficient_quota" },
    { limit: 50, settled: 50, inFlight: 0, maxTokens: 1, figures: "Limit 50, Used 50, Left 0, Requested 2", left: 0, code: "insufficient_quota" },
    { limit: 100, settled: 70, inFlight: 20, maxTokens: 39, figures: "Limit 100, Used 90 (20 reserved by requests in flight), Left 10, Requested 40", left: 10, code: "insufficient_quota" },
    // Settled use alone leaves room; only the running request's reservation blocks: a short wait may help.
    { limit: 100, settled: 30, inFlight: 50, maxTokens: 39, figures: "Limit 100, Used 80 (50 reserved by requests in flight), Left 20, Requested 40", left: 20, code: "rate_limit_exceeded" },
  ])("limit $limit, $settled settled + $inFlight in flight, asking $maxTokens: $figures", async ({ limit, settled, inFlight, maxTokens, figures, left, code }) => {
    const { id, key, conversationId } = await keyWithDailyLimit(limit);
    if (settled > 0) await use(id, limit, settled, true);
    if (inFlight > 0) await use(id, limit, inFlight, false);

    const res = await call("POST", `/v1/conversations/${conversationId}/messages`, { key, body: { content: "hi", max_tokens: maxTokens } });
    const remaining = res.headers.get("x-ratelimit-remaining-tokens");
    const err = await expectOpenAIError(res, 429, code);
    expect(err.message).toContain(`${figures}.`);
    expect(remaining).toBe(String(left));
  });

  it("a request larger than the whole quota says so, without use figures", async () => {
    const { key, conversationId } = await keyWithDailyLimit(100);
    const res = await call("POST", `/v1/conversations/${conversationId}/messages`, { key, body: { content: "hi", max_tokens: 150 } });
    const err = await expectOpenAIError(res, 429, "rate_limit_exceeded");
    expect(err.message).toBe(
      "Request too large for tokens per day (TPD) on this API key: Limit 100, Requested 151. Lower max_tokens or shorten the conversation.",
    );
  });
});
