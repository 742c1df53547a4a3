/**
 * The failover deadline through the real stack: with every worker hanging before its first token,
 * a request gives up when FAILOVER_DEADLINE_MS is spent, even though MAX_ATTEMPTS would allow
 * more workers, and answers a 503 that says how many were tried. The same stack with a deadline
 * far away tries every worker, one first-token wait each, and so answers later.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";

/** Workers in each stack, all hanging, and attempts allowed: one per worker. */
const WORKERS = 4;
/** One attempt's first-token wait. */
const FIRST_TOKEN_TIMEOUT_MS = 1_000;
/** The deadline under test: time for one first-token wait only. */
const FAILOVER_DEADLINE_MS = 1_000;
/**
 * How long after the deadline the 503 may arrive: request handling before the first attempt and
 * the answer after it, on a loaded machine. Less than the further (WORKERS - 1) first-token
 * waits a request that ignored the deadline would make, so the two cases below cannot overlap.
 */
const SLACK_MS = (WORKERS - 1) * FIRST_TOKEN_TIMEOUT_MS - 1;

async function hangingStack(failoverDeadlineMs: number): Promise<Stack> {
  const stack = await startStack({
    sims: WORKERS,
    sim: { reply: "echo", failure: "hang" },
    vars: { MAX_ATTEMPTS: String(WORKERS), FIRST_TOKEN_TIMEOUT_MS: String(FIRST_TOKEN_TIMEOUT_MS), FAILOVER_DEADLINE_MS: String(failoverDeadlineMs) },
  });
  // Warm the gateway (key lookup, limiter, tokenizer) with a request refused before any worker,
  // so the timed request measures the failover and not a cold isolate.
  const warm = await chat(stack, 100_000);
  expect(warm.status).toBe(400);
  return stack;
}

function chat(stack: Stack, maxTokens = 4): Promise<Response> {
  return fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.userKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "anyone there?" }], max_tokens: maxTokens }),
  });
}

/** The 503 of a request to a pool where every worker hangs, and how long it took. */
async function timedFailure(stack: Stack): Promise<{ elapsedMs: number; message: string }> {
  const startedAt = performance.now();
  const res = await chat(stack);
  const body = (await res.json()) as { error: { code: string; message: string } };
  const elapsedMs = performance.now() - startedAt;
  expect(res.status).toBe(503);
  expect(body.error.code).toBe("workers_unavailable");
  return { elapsedMs, message: body.error.message };
}

describe("the failover deadline", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await hangingStack(FAILOVER_DEADLINE_MS);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("stops trying workers once the client has waited the deadline without a token", async () => {
    const { elapsedMs, message } = await timedFailure(stack);
    expect(message).toContain("after 1 attempt.");
    // Not before the deadline, and soon after it.
    expect(elapsedMs).toBeGreaterThanOrEqual(FAILOVER_DEADLINE_MS);
    expect(elapsedMs).toBeLessThan(FAILOVER_DEADLINE_MS + SLACK_MS);
  });
});

describe("without a binding failover deadline", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await hangingStack(60_000);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("tries every worker, each for its first-token wait, and answers later", async () => {
    const { elapsedMs, message } = await timedFailure(stack);
    expect(message).toContain(`after ${WORKERS} attempts.`);
    // At least WORKERS first-token waits: longer than the deadline case may take.
    expect(elapsedMs).toBeGreaterThanOrEqual(WORKERS * FIRST_TOKEN_TIMEOUT_MS);
    expect(elapsedMs).toBeGreaterThanOrEqual(FAILOVER_DEADLINE_MS + SLACK_MS);
    expect(elapsedMs).toBeLessThan(WORKERS * FIRST_TOKEN_TIMEOUT_MS + SLACK_MS);
  });
});
