/**
 * The simulator answering like a model: lorem replies that stop at a ShareGPT-like length, and a
 * fresh seed per sampled request (so Regenerate gets a new answer): the simulator's defaults.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { drawReplyTokens, REPLY_LENGTH_MEDIAN_TOKENS } from "../../gpu-backend/sim/reply-length.js";
import { mulberry32 } from "../../gpu-backend/sim/random.js";
import { replySampling } from "../../gpu-backend/sim/replies.js";
import { startSimulator, type RunningSimulator } from "../../gpu-backend/sim/server.js";
import { post } from "./helpers.js";

describe("drawReplyTokens", () => {
  const draws = (n: number, seed: number) => {
    const random = mulberry32(seed);
    return Array.from({ length: n }, () => drawReplyTokens(random)).sort((a, b) => a - b);
  };

  it("centres on the median with a long tail, never below one token", () => {
    const sorted = draws(20_000, 7);
    const at = (q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;
    expect(at(0.5)).toBeGreaterThan(REPLY_LENGTH_MEDIAN_TOKENS * 0.9);
    expect(at(0.5)).toBeLessThan(REPLY_LENGTH_MEDIAN_TOKENS * 1.1);
    // Log-normal(median 200, σ 1): 90th percentile 200·e^1.2816 ≈ 720; mean 200·e^0.5 ≈ 330,
    // near the 338 tokens the vLLM paper reports for ShareGPT outputs.
    expect(at(0.9)).toBeGreaterThan(620);
    expect(at(0.9)).toBeLessThan(830);
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    expect(mean).toBeGreaterThan(290);
    expect(mean).toBeLessThan(370);
    expect(sorted[0]).toBeGreaterThanOrEqual(1);
    // At the gateway's default max_tokens (512) most answers end by themselves.
    expect(sorted.filter((n) => n < 512).length / sorted.length).toBeGreaterThan(0.8);
  });

  it("is a pure function of its random stream", () => {
    expect(draws(50, 3)).toEqual(draws(50, 3));
    expect(draws(50, 3)).not.toEqual(draws(50, 4));
  });
});

describe("replySampling", () => {
  const base = { seeding: "request" as const, replyLength: "max" as const, configSeed: 5, requestSeed: null, promptText: "USER: hi ASSISTANT:", fresh: () => 0.25 };
  it.each([
    { name: "prompt seeding: the configured seed", input: { seeding: "prompt" as const, temperature: 1 }, seed: 5 },
    { name: "sampling without a seed: a fresh one", input: { temperature: 0.7 }, seed: 2 ** 30 },
    { name: "temperature absent counts as sampling (vLLM's default is 1)", input: { temperature: null }, seed: 2 ** 30 },
    { name: "the request's own seed wins", input: { temperature: 1, requestSeed: 42 }, seed: 42 },
    { name: "temperature 0: fixed by the prompt", input: { temperature: 0, requestSeed: 42 }, seed: 5 },
  ])("$name", ({ input, seed }) => {
    expect(replySampling({ ...base, ...input }).seed).toBe(seed);
  });

  it("sharegpt lengths come with the seed; max lengths have none", () => {
    expect(replySampling({ ...base, temperature: 1 }).naturalLength).toBeUndefined();
    const a = replySampling({ ...base, replyLength: "sharegpt", temperature: 1, requestSeed: 1 });
    expect(a.naturalLength).toBeGreaterThanOrEqual(1);
    expect(replySampling({ ...base, replyLength: "sharegpt", temperature: 1, requestSeed: 1 })).toEqual(a);
  });
});

describe("a simulator that answers like a model", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    // The defaults: replyLength sharegpt, seeding request.
    sim = await startSimulator({ fast: true, reply: "lorem" });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  const Completion = z.object({ choices: z.array(z.object({ text: z.string(), finish_reason: z.string() })), usage: z.object({ completion_tokens: z.number() }) });
  const ask = async (body: Record<string, unknown>) =>
    Completion.parse(await (await post(`${sim.url}/v1/completions`, { prompt: "USER: Tell me about llamas. ASSISTANT:", max_tokens: 512, ...body })).json());

  it("mostly stops by itself before max_tokens", async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, () => ask({})));
    const stopped = replies.filter((r) => r.choices[0]!.finish_reason === "stop");
    expect(stopped.length).toBeGreaterThanOrEqual(14);
    for (const r of stopped) expect(r.usage.completion_tokens).toBeLessThan(512 + 1);
  });

  it("gives a new answer to the same question when sampling, the same one at temperature 0 or with the same seed", async () => {
    const [a, b] = [await ask({ temperature: 0.8 }), await ask({ temperature: 0.8 })];
    expect(a.choices[0]!.text).not.toBe(b.choices[0]!.text);
    const [c, d] = [await ask({ temperature: 0 }), await ask({ temperature: 0 })];
    expect(c.choices[0]!.text).toBe(d.choices[0]!.text);
    const [e, f] = [await ask({ temperature: 1, seed: 9 }), await ask({ temperature: 1, seed: 9 })];
    expect(e.choices[0]!.text).toBe(f.choices[0]!.text);
  });
});

describe("replySampling and ignore_eos", () => {
  it("ignore_eos keeps a sharegpt reply running to max_tokens, as vLLM's flag does", () => {
    const o = { seeding: "request" as const, replyLength: "sharegpt" as const, configSeed: 0, temperature: 1, requestSeed: 7, promptText: "p", fresh: () => 0 };
    expect(replySampling(o).naturalLength).toBeGreaterThanOrEqual(1);
    expect(replySampling({ ...o, ignoreEos: true })).toEqual({ seed: 7 });
  });
});
