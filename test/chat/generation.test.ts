/**
 * The one generation loop over scripted attempt sources: failover before the first token, resume
 * after it (pool) or not (provider), retry delays within the deadline, and what usage counts.
 */
import { describe, expect, it } from "vitest";
import { generate, type AttemptInput, type AttemptSource, type FailoverPolicy, type GenerationPlan } from "../../workers/chat/generation.js";
import { UpstreamError, type UpstreamEvent } from "../../workers/upstream/upstream-error.js";

/** What one scripted attempt does: send these texts, then end or fail. */
interface Script {
  texts: string[];
  then: { end: "stop" | "length"; usage?: { promptTokens: number; completionTokens: number } } | { fail: UpstreamError };
}

function scripted(id: string, script: Script, seen: AttemptInput[]): AttemptSource {
  return {
    id,
    async *stream(input): AsyncGenerator<UpstreamEvent> {
      seen.push(input);
      for (const text of script.texts) yield { kind: "text", text };
      if ("fail" in script.then) throw script.then.fail;
      const usage = script.then.usage ? { ...script.then.usage, cachedTokens: 0 } : null;
      yield { kind: "end", finishReason: script.then.end, usage };
    },
  };
}

const policy: FailoverPolicy = { maxAttempts: 3, firstTokenTimeoutMs: 1_000, failoverDeadlineMs: 5_000, tokenStallTimeoutMs: 1_000 };
// One "token" per character keeps the counting visible.
const countChars = (text: string) => ({ tokens: Array.from(text, (ch) => ch.charCodeAt(0)), count: text.length });

function plan(sources: AttemptSource[], overrides: Partial<GenerationPlan> = {}): GenerationPlan {
  return { sources, promptTokens: 10, maxTokens: 20, resumable: true, continuation: countChars, retryDelayMs: () => 0, ...overrides };
}

const broken = (message = "connection reset") => new UpstreamError("stream", message);
const refused = new UpstreamError("status", "answered 400: bad", 400, false);

async function run(scripts: Script[], overrides: Partial<GenerationPlan> = {}) {
  const seen: AttemptInput[] = [];
  const deltas: string[] = [];
  const sources = scripts.map((s, i) => scripted(`w${i + 1}`, s, seen));
  const result = await generate(plan(sources, overrides), policy, new AbortController().signal, async (delta) => {
    deltas.push(delta);
  });
  return { result, seen, deltas };
}

describe("generate", () => {
  it.each<{ name: string; scripts: Script[]; overrides?: Partial<GenerationPlan>; want: { status: string; text: string; attempts: number; completionTokens: number; workerId: string | null; continuations: (string | null)[] } }>([
    {
      name: "first source answers",
      scripts: [{ texts: ["Hel", "lo"], then: { end: "stop", usage: { promptTokens: 10, completionTokens: 2 } } }],
      want: { status: "complete", text: "Hello", attempts: 1, completionTokens: 2, workerId: "w1", continuations: [null] },
    },
    {
      name: "a failure before the first token moves to the next source, which starts afresh",
      scripts: [{ texts: [], then: { fail: broken() } }, { texts: ["Hi"], then: { end: "stop", usage: { promptTokens: 10, completionTokens: 1 } } }],
      want: { status: "complete", text: "Hi", attempts: 2, completionTokens: 1, workerId: "w2", continuations: [null, null] },
    },
    {
      name: "pool: a break mid-stream resumes on the next source from the text already sent",
      scripts: [{ texts: ["abc"], then: { fail: broken() } }, { texts: ["de"], then: { end: "stop", usage: { promptTokens: 13, completionTokens: 2 } } }],
      want: { status: "complete", text: "abcde", attempts: 2, completionTokens: 5, workerId: "w2", continuations: [null, "abc"] },
    },
    {
      name: "provider: a break mid-stream ends as failed with the partial text, no second attempt",
      scripts: [{ texts: ["abc"], then: { fail: broken() } }, { texts: ["never"], then: { end: "stop" } }],
      overrides: { resumable: false },
      want: { status: "failed", text: "abc", attempts: 1, completionTokens: 3, workerId: "w1", continuations: [null] },
    },
    {
      name: "a refused request is not tried elsewhere",
      scripts: [{ texts: [], then: { fail: refused } }, { texts: ["x"], then: { end: "stop" } }],
      want: { status: "failed", text: "", attempts: 1, completionTokens: 0, workerId: null, continuations: [null] },
    },
    {
      name: "every source fails: failed after maxAttempts",
      scripts: [0, 1, 2, 3].map(() => ({ texts: [], then: { fail: broken() } })),
      want: { status: "failed", text: "", attempts: 3, completionTokens: 0, workerId: null, continuations: [null, null, null] },
    },
    {
      name: "without a usage report, the attempt's text is counted",
      scripts: [{ texts: ["four"], then: { end: "length" } }],
      want: { status: "length", text: "four", attempts: 1, completionTokens: 4, workerId: "w1", continuations: [null] },
    },
  ])("$name", async ({ scripts, overrides, want }) => {
    const { result, seen } = await run(scripts, overrides);
    expect({ status: result.status, text: result.text, attempts: result.attempts, completionTokens: result.completionTokens, workerId: result.workerId }).toEqual({
      status: want.status,
      text: want.text,
      attempts: want.attempts,
      completionTokens: want.completionTokens,
      workerId: want.workerId,
    });
    expect(seen.map((input) => (input.continuation ? String.fromCharCode(...(input.continuation.tokens ?? [])) : null))).toEqual(want.continuations);
  });

  it("a resumed attempt gets the budget that is left", async () => {
    const { seen } = await run([{ texts: ["abcdef"], then: { fail: broken() } }, { texts: ["g"], then: { end: "stop" } }]);
    expect(seen.map((input) => input.maxTokens)).toEqual([20, 14]);
  });

  it("the provider's prompt count replaces the estimate", async () => {
    const { result } = await run([{ texts: ["ok"], then: { end: "stop", usage: { promptTokens: 42, completionTokens: 2 } } }], { resumable: false });
    expect(result.promptTokens).toBe(42);
  });

  it("waits the plan's retry delay between attempts, and gives up when it would pass the deadline", async () => {
    const delays: number[] = [];
    const started = Date.now();
    const { result } = await run(
      [{ texts: [], then: { fail: new UpstreamError("status", "429", 429, true, 0) } }, { texts: ["ok"], then: { end: "stop" } }],
      { retryDelayMs: (_err, attempt) => (delays.push(attempt), 50) },
    );
    expect(result.status).toBe("complete");
    expect(delays).toEqual([1]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);

    const tooLong = await run(
      [{ texts: [], then: { fail: new UpstreamError("status", "429", 429, true, 60) } }, { texts: ["ok"], then: { end: "stop" } }],
      { retryDelayMs: () => 60_000 },
    );
    expect(tooLong.result.status).toBe("failed");
    expect(tooLong.result.attempts).toBe(1);
    expect(tooLong.result.error?.retryAfterSeconds).toBe(60);
  });

  it("tells the plan how each attempt ended", async () => {
    const ends: string[] = [];
    const seen: AttemptInput[] = [];
    const sources = [scripted("w1", { texts: [], then: { fail: broken() } }, seen), scripted("w2", { texts: ["x"], then: { end: "stop" } }, seen)];
    await generate(plan(sources, { onAttempt: (s) => (outcome) => ends.push(`${s.id}:${outcome}`) }), policy, new AbortController().signal, async () => undefined);
    expect(ends).toEqual(["w1:failure", "w2:success"]);
  });

  it("a client that leaves mid-stream cancels, counting what was generated", async () => {
    const controller = new AbortController();
    const seen: AttemptInput[] = [];
    const source = scripted("w1", { texts: ["ab", "cd", "ef"], then: { end: "stop" } }, seen);
    let n = 0;
    const result = await generate(plan([source]), policy, controller.signal, async () => {
      if (++n === 2) {
        controller.abort(new Error("client left"));
        throw new Error("client left");
      }
    });
    expect(result.status).toBe("cancelled");
    expect(result.text).toBe("abcd");
    expect(result.completionTokens).toBe(4);
  });
});
