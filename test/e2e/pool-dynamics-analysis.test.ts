/** The pool-dynamics benchmark's arithmetic (bench/pool-dynamics/analysis.ts), by tables of cases. */
import { describe, expect, it } from "vitest";
import { affinityFigures, errorCounts, killFigures, summarize, type RequestRecord } from "../../bench/pool-dynamics/analysis.js";

const ok = (startedAt: number, endedAt: number, worker = "b"): RequestRecord => ({ conversationId: null, startedAt, endedAt, status: 200, worker });

describe("killFigures", () => {
  it.each([
    {
      name: "no attempt after the kill: traffic stopped at the kill itself",
      input: { killedAt: 1_000, windowEnd: 5_000, cutInFlight: 2, deadAttempts: [], requests: [ok(900, 1_100), ok(2_000, 2_050)] },
      expected: { noTrafficAfterMs: 0, failovers: 2, deadAttempts: 0, requestsInWindow: 2, clientErrors: 0, maxLatencyInWindowMs: 200 },
    },
    {
      name: "the last attempt on the dead address ends the window; earlier ones do not count",
      input: { killedAt: 1_000, windowEnd: 5_000, cutInFlight: 0, deadAttempts: [500, 1_200, 1_650, 1_400], requests: [] },
      expected: { noTrafficAfterMs: 650, failovers: 3, deadAttempts: 3, requestsInWindow: 0, clientErrors: 0, maxLatencyInWindowMs: 0 },
    },
    {
      name: "a failed request in the window is a client error; those ended before the kill or started after the window are not counted",
      input: {
        killedAt: 1_000,
        windowEnd: 3_000,
        cutInFlight: 1,
        deadAttempts: [1_100],
        requests: [
          { ...ok(1_500, 1_900), status: 503 },
          { ...ok(1_600, 1_700), status: 0, worker: null },
          { ...ok(500, 900), status: 500 },
          { ...ok(3_500, 3_600), status: 500 },
        ],
      },
      expected: { noTrafficAfterMs: 100, failovers: 2, deadAttempts: 1, requestsInWindow: 2, clientErrors: 2, maxLatencyInWindowMs: 400 },
    },
  ])("$name", ({ input, expected }) => {
    expect(killFigures(input)).toMatchObject(expected);
  });
});

describe("affinityFigures", () => {
  it.each([
    {
      name: "every conversation on one worker",
      input: { c1: ["a", "a", "a"], c2: ["b", "b"] },
      expected: { conversations: 2, turns: 5, overallShare: 1, minConversationShare: 1, conversationsOnOneWorker: 2, consecutiveSameShare: 1, conversationsByWorker: { a: 1, b: 1 } },
    },
    {
      name: "one turn elsewhere lowers that conversation's share and breaks two consecutive pairs",
      input: { c1: ["a", "b", "a", "a"], c2: ["b", "b", "b", "b"] },
      expected: { conversations: 2, turns: 8, overallShare: 7 / 8, minConversationShare: 3 / 4, conversationsOnOneWorker: 1, consecutiveSameShare: 4 / 6, conversationsByWorker: { a: 1, b: 1 } },
    },
    {
      name: "a conversation that moved for good counts its majority worker; a tie goes to the first",
      input: { c1: ["a", "a", "c", "c", "c"], c2: ["b", "c"] },
      expected: { conversations: 2, turns: 7, overallShare: 4 / 7, minConversationShare: 1 / 2, conversationsOnOneWorker: 0, consecutiveSameShare: 3 / 5, conversationsByWorker: { b: 1, c: 1 } },
    },
    {
      name: "empty conversations are ignored",
      input: { c1: [], c2: ["a"] },
      expected: { conversations: 1, turns: 1, overallShare: 1, minConversationShare: 1, conversationsOnOneWorker: 1, consecutiveSameShare: 0 },
    },
  ])("$name", ({ input, expected }) => {
    expect(affinityFigures(new Map(Object.entries(input)))).toMatchObject(expected);
  });
});

describe("summarize", () => {
  it.each([
    { values: [3], expected: { n: 1, median: 3, min: 3, max: 3 } },
    { values: [5, 1, 3], expected: { n: 3, median: 3, min: 1, max: 5 } },
    { values: [4, 1, 2, 10], expected: { n: 4, median: 3, min: 1, max: 10 } },
  ])("$values", ({ values, expected }) => {
    expect(summarize(values)).toEqual(expected);
  });

  it("is NaN for no values", () => {
    expect(summarize([]).median).toBeNaN();
  });
});

describe("errorCounts", () => {
  it("counts failed requests by error, naming those without a code by their status", () => {
    const records: RequestRecord[] = [
      ok(0, 1),
      { ...ok(0, 1), status: 503, error: "overloaded" },
      { ...ok(0, 1), status: 503, error: "overloaded" },
      { ...ok(0, 1), status: 500 },
      { ...ok(0, 1), status: 0, error: "TimeoutError" },
    ];
    expect(errorCounts(records)).toEqual({ overloaded: 2, "http-500": 1, TimeoutError: 1 });
  });
});
