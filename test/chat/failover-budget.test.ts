import { describe, expect, it } from "vitest";
import { nextAttemptWaitMs, type AttemptBudgetInput } from "../../workers/chat/failover-budget.js";

const base: AttemptBudgetInput = { nowMs: 10_000, lastProgressMs: 10_000, deadlineMs: 45_000, firstTokenTimeoutMs: 30_000 };

describe("nextAttemptWaitMs", () => {
  it.each<{ name: string; input: Partial<AttemptBudgetInput>; want: number | null }>([
    { name: "first attempt: the whole first-token timeout", input: {}, want: 30_000 },
    { name: "after one timed-out worker: what the deadline leaves", input: { nowMs: 40_000 }, want: 15_000 },
    { name: "plenty left: still at most the first-token timeout", input: { nowMs: 12_000 }, want: 30_000 },
    { name: "deadline reached exactly: no more attempts", input: { nowMs: 55_000 }, want: null },
    { name: "deadline passed: no more attempts", input: { nowMs: 70_000 }, want: null },
    { name: "a resumed stream counts from its last token", input: { nowMs: 100_000, lastProgressMs: 99_000 }, want: 30_000 },
    { name: "a resumed stream whose worker was silent long", input: { nowMs: 100_000, lastProgressMs: 60_000 }, want: 5_000 },
    { name: "a deadline shorter than the first-token timeout cuts the first attempt", input: { deadlineMs: 1_000 }, want: 1_000 },
    { name: "a clock that went backwards counts as no time passed", input: { nowMs: 9_000 }, want: 30_000 },
  ])("$name", ({ input, want }) => {
    expect(nextAttemptWaitMs({ ...base, ...input })).toBe(want);
  });
});
