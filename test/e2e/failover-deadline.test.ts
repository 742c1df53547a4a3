/**
 * The failover deadline through the real stack: with every worker hanging before its first token,
 * a request gives up when FAILOVER_DEADLINE_MS is spent, even though MAX_ATTEMPTS would allow
 * more workers, and answers a 503 that says how many were tried.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    sims: 3,
    sim: { reply: "lorem", failure: "hang" },
    // Three attempts allowed, but the deadline leaves time for one first-token wait only.
    vars: { MAX_ATTEMPTS: "3", FIRST_TOKEN_TIMEOUT_MS: "1000", FAILOVER_DEADLINE_MS: "1000" },
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe("the failover deadline", () => {
  it("stops trying workers once the client has waited the deadline without a token", async () => {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.userKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "anyone there?" }], max_tokens: 4 }),
    });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("workers_unavailable");
    expect(body.error.message).toContain("after 1 attempt.");
  });
});
