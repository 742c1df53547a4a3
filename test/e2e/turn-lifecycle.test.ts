/**
 * What happens to a turn when things go wrong: the client leaves, two turns collide, a worker
 * fails before or during the answer. Simulators with small real latencies, so streams take time.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";
import { ConversationApi } from "./conversation-api.js";
import { waitFor } from "../support/wait.js";

let stack: Stack;
let api: ConversationApi;

beforeAll(async () => {
  stack = await startStack({
    sims: 2,
    sim: { reply: "lorem", ttftBaseMs: 10, prefillMsPerToken: 0, itlMs: 8, itlJitterMs: 0 },
    // A short breaker cooldown, so one test's failing worker is usable again in the next; short
    // stall bounds, so a silent worker or a client whose socket broke mid-write is noticed quickly.
    vars: { FIRST_TOKEN_TIMEOUT_MS: "1500", TOKEN_STALL_TIMEOUT_MS: "1000", POOL_BREAKER_COOLDOWN_MS: "200", CLIENT_STALL_TIMEOUT_MS: "2000" },
  });
  api = new ConversationApi(stack.url, stack.userKey);
});

afterAll(async () => {
  await stack?.stop();
});

afterEach(async () => {
  for (const sim of stack.sims) await sim.setFailure(null);
  // Let every worker's circuit breaker close again before the next test.
  await waitFor(async () => ((await stack.pool()).workers.every((w) => w.cooldown_until < Date.now()) ? true : undefined));
  await new Promise((r) => setTimeout(r, 1_100));
});

function simById(id: string | null) {
  const sim = stack.sims.find((s) => s.workerId === id);
  if (!sim) throw new Error(`no simulator ${id}`);
  return sim;
}

describe("turn lifecycle", () => {
  it("a client that disconnects mid-stream leaves the partial reply stored as cancelled", async () => {
    const conv = await api.create({});
    const controller = new AbortController();
    let seen = "";
    await api.sendStreamed(conv.id, { content: "tell me a long story", max_tokens: 2000 }, {
      signal: controller.signal,
      onText(text) {
        seen = text;
        if (text.length > 80) controller.abort();
      },
    });
    const reply = await waitFor(async () => {
      const m = (await api.get(conv.id)).messages[1];
      return m?.status ? m : undefined;
    });
    expect(reply.status).toBe("cancelled");
    expect(reply.content.startsWith(seen)).toBe(true);
    expect(reply.content.length).toBeLessThan(2000 * 4);
    // The conversation is free again for the next turn.
    expect((await api.send(conv.id, { content: "next", max_tokens: 5 })).body.choices[0]!.finish_reason).toBe("length");
  });

  it("a second turn while one is running gets 409 conversation_busy and stores nothing", async () => {
    const conv = await api.create({});
    const first = api.sendStreamed(conv.id, { content: "first", max_tokens: 150 });
    await waitFor(async () => ((await api.get(conv.id)).messages.length > 0 ? true : undefined));
    const second = await api.raw("POST", `/v1/conversations/${conv.id}/messages`, { content: "second" });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe("conversation_busy");
    await first;
    const messages = await waitFor(async () => {
      const m = (await api.get(conv.id)).messages;
      return m.length === 2 ? m : undefined;
    });
    expect(messages.map((m) => [m.role, m.content === "first" ? "first" : m.status])).toEqual([["user", "first"], ["assistant", "length"]]);
  });

  it("a worker answering 500 before the first token is passed over for the next", async () => {
    stack.sims[0]!.setFailure({ mode: "http-500" });
    for (let i = 0; i < 4; i++) {
      const conv = await api.create({});
      const res = await api.send(conv.id, { content: `hello ${i}`, max_tokens: 8 });
      expect(res.headers.get("x-altiplano-worker")).toBe(stack.sims[1]!.workerId);
    }
  });

  it("a worker that hangs without a first token is abandoned after the deadline", async () => {
    const conv = await api.create({});
    const pinned = (await api.send(conv.id, { content: "where do I land?", max_tokens: 4 })).headers.get("x-altiplano-worker");
    simById(pinned).setFailure({ mode: "hang" });
    const res = await api.send(conv.id, { content: "and now?", max_tokens: 4 });
    expect(res.headers.get("x-altiplano-worker")).not.toBe(pinned);
  });

  it.each([
    { how: "dying (connection closed)", mode: "close-after" as const },
    { how: "going silent (until the stall timeout)", mode: "stall-after" as const },
  ])("a worker $how mid-stream is resumed on another: one whole stream, stored once", async ({ mode }) => {
    const conv = await api.create({});
    const pinned = (await api.send(conv.id, { content: "warm up", max_tokens: 4 })).headers.get("x-altiplano-worker");
    simById(pinned).setFailure({ mode, afterTokens: 10, count: 1 });
    const { text, headers } = await api.sendStreamed(conv.id, { content: "go on", max_tokens: 60 });
    expect(headers.get("x-altiplano-worker")).toBe(pinned);
    // The failing worker sent 10 tokens; the rest of the 60-token budget came from the other one.
    expect(text.split(/\s+/).filter(Boolean).length).toBeGreaterThan(20);
    const messages = await waitFor(async () => {
      const m = (await api.get(conv.id)).messages;
      return m.length === 4 && m[3]!.status ? m : undefined;
    });
    expect(messages[3]).toMatchObject({ role: "assistant", content: text, status: "length" });
  });

  it("when every worker fails, the turn is a 503 and the conversation is unchanged", async () => {
    const conv = await api.create({});
    for (const sim of stack.sims) sim.setFailure({ mode: "http-503" });
    const res = await api.raw("POST", `/v1/conversations/${conv.id}/messages`, { content: "anyone?" });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("workers_unavailable");
    expect((await api.get(conv.id)).messages).toHaveLength(0);
  });
});
