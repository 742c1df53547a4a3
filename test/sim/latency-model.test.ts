import { describe, expect, it } from "vitest";
import { DEFAULT_LATENCY, interTokenMs, prefillMs, type LatencyParams } from "../../gpu-backend/sim/latency-model.js";

const P: LatencyParams = { ttftBaseMs: 100, prefillMsPerToken: 0.5, itlMs: 20, itlJitterMs: 4, batchSlowdownPerSeq: 0.01 };

describe("prefillMs", () => {
  it.each([
    { uncachedTokens: 0, runningBatch: 1, want: 100 },
    { uncachedTokens: 100, runningBatch: 1, want: 150 },
    { uncachedTokens: 100, runningBatch: 0, want: 150 },
    { uncachedTokens: 100, runningBatch: 11, want: 165 },
    { uncachedTokens: -5, runningBatch: 1, want: 100 },
  ])("uncached=$uncachedTokens batch=$runningBatch -> $want ms", ({ uncachedTokens, runningBatch, want }) => {
    expect(prefillMs(P, { uncachedTokens, runningBatch })).toBeCloseTo(want, 9);
  });

  it("a cached prefix makes the first token cheaper", () => {
    const cold = prefillMs(DEFAULT_LATENCY, { uncachedTokens: 2000, runningBatch: 1 });
    const warm = prefillMs(DEFAULT_LATENCY, { uncachedTokens: 16, runningBatch: 1 });
    expect(warm).toBeLessThan(cold);
  });
});

describe("interTokenMs", () => {
  it.each([
    { random: 0.5, runningBatch: 1, want: 20 },
    { random: 0, runningBatch: 1, want: 16 },
    { random: 1, runningBatch: 1, want: 24 },
    { random: 0.5, runningBatch: 101, want: 40 },
  ])("random=$random batch=$runningBatch -> $want ms", ({ random, runningBatch, want }) => {
    expect(interTokenMs(P, { runningBatch, random: () => random })).toBeCloseTo(want, 9);
  });

  it("never goes negative when jitter exceeds the base", () => {
    expect(interTokenMs({ ...P, itlMs: 1, itlJitterMs: 10 }, { runningBatch: 1, random: () => 0 })).toBe(0);
  });
});

describe("DEFAULT_LATENCY", () => {
  it("is roughly vicuna-13b on one H100", () => {
    const ttft = prefillMs(DEFAULT_LATENCY, { uncachedTokens: 100, runningBatch: 1 });
    expect(ttft).toBeGreaterThan(90);
    expect(ttft).toBeLessThan(150);
    const itl = interTokenMs(DEFAULT_LATENCY, { runningBatch: 1, random: () => 0.5 });
    expect(itl).toBeGreaterThanOrEqual(15);
    expect(itl).toBeLessThanOrEqual(20);
  });
});
