/**
 * What happens to a turn when things go wrong: the client leaves, two turns collide, a worker
 * fails before or during the answer. Simulators with small real latencies, so streams take time.
 * The simulators echo the user's message (`echo`), so every reply is known in advance: how long
 * it is, and to the character what a resumed answer must be.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startStack, type RunningSim, type Stack } from "../../scripts/stack.js";
import { decodeTokens, encodeText } from "../../workers/prompt/tokenizer.js";
import { ConversationApi } from "./conversation-api.js";
import { sleep, waitFor } from "../support/wait.js";

let stack: Stack;
let api: ConversationApi;

/** A worker with no first token by then is passed over. */
const FIRST_TOKEN_TIMEOUT_MS = 1_500;
/**
 * A gateway isolate routes from a pool snapshot at most this old (SNAPSHOT_MAX_AGE_MS in
 * workers/pool/snapshot-cache.ts, which only loads inside workerd). A request that starts this long
 * after the breakers closed routes from a snapshot that shows them closed, however slow the machine.
 */
const SNAPSHOT_MAX_AGE_MS = 1_000;
/** A message whose echo is about 900 tokens: 7 s at 8 ms a token, far longer than any test waits. */
const LONG_MESSAGE = Array.from({ length: 60 }, (_, i) => `Verse ${i + 1}: the llamas walk the high road to the lake.`).join(" ");

beforeAll(async () => {
  stack = await startStack({
    sims: 2,
    sim: { reply: "echo", ttftBaseMs: 10, prefillMsPerToken: 0, itlMs: 8, itlJitterMs: 0 },
    // A short breaker cooldown, so one test's failing worker is usable again in the next; short
    // stall bounds, so a silent worker or a client whose socket broke mid-write is noticed quickly.
    vars: {
      FIRST_TOKEN_TIMEOUT_MS: String(FIRST_TOKEN_TIMEOUT_MS),
      TOKEN_STALL_TIMEOUT_MS: "1000",
      POOL_BREAKER_COOLDOWN_MS: "200",
      CLIENT_STALL_TIMEOUT_MS: "2000",
    },
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
  // The gateway's cached snapshot is internal state no request can observe without routing; it is
  // refetched once it is SNAPSHOT_MAX_AGE_MS old, so this wait is a bound, not a guess at speed.
  await sleep(SNAPSHOT_MAX_AGE_MS + 100);
});

function simById(id: string | null) {
  const sim = stack.sims.find((s) => s.workerId === id);
  if (!sim) throw new Error(`no simulator ${id}`);
  return sim;
}

/** A simulator's own counters, from its vLLM /metrics. */
async function simCounters(sim: RunningSim): Promise<{ requests: number; promptTokens: number; generationTokens: number }> {
  const text = await (await fetch(`${sim.url}/metrics`)).text();
  const value = (name: string): number => {
    const match = new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "m").exec(text);
    if (!match) throw new Error(`${sim.workerId} reports no ${name}`);
    return Number(match[1]);
  };
  return {
    // Requests that produced a first token.
    requests: value("vllm:time_to_first_token_seconds_count"),
    promptTokens: value("vllm:prompt_tokens_total"),
    generationTokens: value("vllm:generation_tokens_total"),
  };
}

describe("turn lifecycle", () => {
  it("a client that disconnects mid-stream leaves the partial reply stored as cancelled", async () => {
    const conv = await api.create({});
    const controller = new AbortController();
    let seen = "";
    await api.sendStreamed(conv.id, { content: LONG_MESSAGE, max_tokens: 2000 }, {
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
    expect((await api.send(conv.id, { content: "next, tell me about the llamas of the high Andes", max_tokens: 5 })).body.choices[0]!.finish_reason).toBe("length");
  });

  it("a second turn while one is running gets 409 conversation_busy and stores nothing", async () => {
    const conv = await api.create({});
    const first = api.sendStreamed(conv.id, { content: LONG_MESSAGE, max_tokens: 150 });
    await waitFor(async () => ((await api.get(conv.id)).messages.length > 0 ? true : undefined));
    const second = await api.raw("POST", `/v1/conversations/${conv.id}/messages`, { content: "second" });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe("conversation_busy");
    await first;
    const messages = await waitFor(async () => {
      const m = (await api.get(conv.id)).messages;
      return m.length === 2 ? m : undefined;
    });
    expect(messages.map((m) => [m.role, m.content === LONG_MESSAGE ? "first" : m.status])).toEqual([["user", "first"], ["assistant", "length"]]);
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
    const startedAt = performance.now();
    const res = await api.send(conv.id, { content: "and now?", max_tokens: 4 });
    const elapsedMs = performance.now() - startedAt;
    expect(res.headers.get("x-altiplano-worker")).not.toBe(pinned);
    expect(res.body.choices[0]!.message.content).toBe("and now?");
    // The pinned worker was waited for the whole first-token deadline (not passed over early, so
    // it was tried first), and given up on then: the next worker's few tokens take milliseconds,
    // so anything near the 45 s failover deadline or a second wait would be far past this bound.
    expect(elapsedMs).toBeGreaterThanOrEqual(FIRST_TOKEN_TIMEOUT_MS);
    expect(elapsedMs).toBeLessThan(FIRST_TOKEN_TIMEOUT_MS + 5_000);
  });

  it.each([
    { how: "dying (connection closed)", mode: "close-after" as const },
    { how: "going silent (until the stall timeout)", mode: "stall-after" as const },
  ])("a worker $how mid-stream is resumed on another: one whole stream, stored once", async ({ mode }) => {
    const conv = await api.create({});
    const pinned = (await api.send(conv.id, { content: "warm up", max_tokens: 4 })).headers.get("x-altiplano-worker");
    const other = stack.sims.find((s) => s.workerId !== pinned)!;
    const message = "Count the llamas on the hill: one llama grazing, two llamas resting, three llamas walking north along the river.";
    const messageTokens = encodeText(message, { leadingSpace: false });
    // The failing worker sends the first 10 tokens of its echo, then breaks. The next worker
    // continues from the prompt plus those 10 tokens; the simulator's echo does not know it is
    // continuing, so it echoes the whole message again. The whole answer is therefore exactly
    // these two parts, each once: nothing lost at the seam, nothing sent twice.
    const firstPart = decodeTokens(messageTokens.slice(0, 10));
    expect(message.startsWith(firstPart)).toBe(true);
    const wholeAnswer = firstPart + message;
    const before = { failing: await simCounters(simById(pinned)), other: await simCounters(other) };

    simById(pinned).setFailure({ mode, afterTokens: 10, count: 1 });
    const { text, headers, status } = await api.sendStreamed(conv.id, { content: message, max_tokens: 60 });
    expect(status).toBe(200);
    expect(headers.get("x-altiplano-worker")).toBe(pinned);
    expect(text).toBe(wholeAnswer);

    const messages = await waitFor(async () => {
      const m = (await api.get(conv.id)).messages;
      return m.length === 4 && m[3]!.status ? m : undefined;
    });
    // 10 + 29 tokens of the 60 allowed: the continuation ended by itself.
    expect(messages[2]).toMatchObject({ role: "user", content: message });
    expect(messages[3]).toMatchObject({ role: "assistant", content: wholeAnswer, status: "complete" });
    // What the client streamed is what was stored, and the turn is stored once.
    expect(messages[3]!.content).toBe(text);
    expect(messages.filter((m) => m.role === "assistant" && m.content === wholeAnswer)).toHaveLength(1);

    // Two workers made it: the pinned one generated the first 10 tokens and no more, the other
    // answered one request whose prompt was the failing worker's prompt plus those 10 tokens.
    const after = { failing: await simCounters(simById(pinned)), other: await simCounters(other) };
    expect(after.failing.requests - before.failing.requests).toBe(1);
    expect(after.failing.generationTokens - before.failing.generationTokens).toBe(10);
    expect(other.workerId).not.toBe(pinned);
    expect(after.other.requests - before.other.requests).toBe(1);
    // One echo of the message (plus at most its EOS): the continuation was generated once.
    expect(after.other.generationTokens - before.other.generationTokens).toBeGreaterThanOrEqual(messageTokens.length);
    expect(after.other.generationTokens - before.other.generationTokens).toBeLessThanOrEqual(messageTokens.length + 1);
    const failingPrompt = after.failing.promptTokens - before.failing.promptTokens;
    expect(after.other.promptTokens - before.other.promptTokens).toBe(failingPrompt + encodeText(firstPart, { leadingSpace: false }).length);
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
