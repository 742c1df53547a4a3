/** The leaderboard page's numbers: points, intervals, win fractions, their colour steps and the votes sentence. */
import { describe, expect, it } from "vitest";
import { cellTitle, formatFraction, formatInterval, formatJudgeScore, formatPoints, fractionStep, votesSentence } from "../../web/src/leaderboard/format.js";

describe("formatPoints and formatInterval", () => {
  it.each([
    [1000, "1000"],
    [1012.49, "1012"],
    [1012.5, "1013"],
    [987.51, "988"],
    [0.4, "0"],
    [-0.4, "0"],
    [-12.6, "\u221213"],
  ])("%d → %s", (value, text) => {
    expect(formatPoints(value)).toBe(text);
  });

  it.each([
    [988.2, 1011.7, "988\u20131012"],
    [1000, 1000, "1000\u20131000"],
    [-20.4, 15, "\u221220\u201315"],
  ])("%d..%d → %s", (low, high, text) => {
    expect(formatInterval(low, high)).toBe(text);
  });
});

describe("formatFraction and fractionStep", () => {
  it.each<[number | null, string, number | null]>([
    [null, "\u2014", null],
    [Number.NaN, "\u2014", null],
    [0, "0.00", 0],
    [0.04, "0.04", 0],
    [0.05, "0.05", 1],
    [0.25, "0.25", 3],
    [0.5, "0.50", 5],
    [0.625, "0.63", 6],
    [0.75, "0.75", 8],
    [0.96, "0.96", 10],
    [1, "1.00", 10],
    [1.2, "1.00", 10],
    [-0.1, "0.00", 0],
  ])("%s → %j, step %s", (fraction, text, step) => {
    expect(formatFraction(fraction)).toBe(text);
    expect(fractionStep(fraction)).toBe(step);
  });

  it("orders the steps as the fractions", () => {
    const steps = Array.from({ length: 101 }, (_, i) => fractionStep(i / 100)!);
    for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeGreaterThanOrEqual(steps[i - 1]!);
    expect(new Set(steps).size).toBe(11);
  });
});

describe("votesSentence", () => {
  const board = (total: number, counted: number, leak: number, cap: number) => ({ votes_total: total, votes_counted: counted, votes_dropped: { identity_leak: leak, voter_cap: cap } });
  it.each([
    [board(0, 0, 0, 0), "0 votes counted of 0; none dropped."],
    [board(1, 1, 0, 0), "1 vote counted of 1; none dropped."],
    [board(15, 12, 2, 1), "12 votes counted of 15; 3 dropped: 2 where a model named itself, 1 over a voter's daily cap."],
    [board(5, 4, 1, 0), "4 votes counted of 5; 1 dropped: 1 where a model named itself."],
    [board(12_345, 12_000, 0, 345), "12,000 votes counted of 12,345; 345 dropped: 345 over a voter's daily cap."],
  ])("%j", (b, text) => {
    expect(votesSentence(b)).toBe(text);
  });
});

describe("cellTitle", () => {
  it.each<[number | null, number, string]>([
    [0.625, 8, "m1 won 0.63 of 8 battles against m2 (ties count half)"],
    [1, 1, "m1 won 1.00 of 1 battle against m2 (ties count half)"],
    [null, 0, "m1 and m2 have not met"],
  ])("%s of %i", (fraction, battles, text) => {
    expect(cellTitle("m1", "m2", fraction, battles)).toBe(text);
  });
});

describe("formatJudgeScore", () => {
  it.each([
    ["single", 7.4, "7.4 / 10"],
    ["single", 10, "10.0 / 10"],
    ["single", 6.96, "7.0 / 10"],
    ["pairwise", 0.625, "63 %"],
    ["pairwise", 0, "0 %"],
    ["single", null, "\u2013"],
    ["pairwise", undefined, "\u2013"],
    ["single", Number.NaN, "\u2013"],
  ] as const)("%s %s reads %s", (mode, score, text) => {
    expect(formatJudgeScore(mode, score)).toBe(text);
  });
});
