import { describe, expect, it } from "vitest";
import { backoffDelayMs, type BackoffInput } from "../../wire/backoff.js";

describe("backoffDelayMs", () => {
  it.each<[string, BackoffInput, number]>([
    ["first retry: the base", { attempt: 1, baseMs: 250, maxMs: 4_000 }, 250],
    ["doubles per attempt", { attempt: 3, baseMs: 250, maxMs: 4_000 }, 1_000],
    ["capped", { attempt: 9, baseMs: 250, maxMs: 4_000 }, 4_000],
    ["a huge attempt number stays capped (no overflow to Infinity·0)", { attempt: 10_000, baseMs: 250, maxMs: 4_000 }, 4_000],
    ["attempt 0 is treated as the first", { attempt: 0, baseMs: 250, maxMs: 4_000 }, 250],
    ["jitter low end", { attempt: 2, baseMs: 250, maxMs: 4_000, jitter: { random: 0, low: 0.5, high: 1 } }, 250],
    ["jitter high end", { attempt: 2, baseMs: 250, maxMs: 4_000, jitter: { random: 0.999, low: 0.5, high: 1 } }, 500],
    ["jitter around the delay", { attempt: 1, baseMs: 1_000, maxMs: 5_000, jitter: { random: 0.5, low: 0.8, high: 1.2 } }, 1_000],
  ])("%s", (_name, input, want) => {
    expect(backoffDelayMs(input)).toBe(want);
  });
});
