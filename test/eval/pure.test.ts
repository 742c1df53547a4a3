/** The evaluation's pure parts, by tables: question files, verdicts, scoring, retries, progress, options. */
import { describe, expect, it } from "vitest";
import { parseOptions } from "../../eval/options.js";
import { retryAfterMs } from "../../eval/openai-client.js";
import { estimateLeftMs, formatDuration, judgeCost, Tally } from "../../eval/progress.js";
import { categoryTemperature, parseQuestions, QuestionFileError, referenceFor } from "../../eval/questions.js";
import { pairsToJudge } from "../../eval/run.js";
import { combineGames, gameWinner, pairwiseResults, singleResults, type PairJudgment, type SingleJudgment } from "../../eval/scoring.js";
import { parsePairVerdict, parseRating } from "../../eval/verdicts.js";

const line = (q: Record<string, unknown>) => JSON.stringify(q);

describe("question files", () => {
  it("reads MT-bench's format: ids as text, one or two turns, references kept", () => {
    const text = [
      line({ question_id: 81, category: "writing", turns: ["Write a haiku.", "Now in Spanish."] }),
      "",
      line({ question_id: "q-2", category: "math", turns: ["1+1?"], reference: ["2"] }),
      line({ question_id: 3, category: "coding", turns: ["a", "b"], reference: ["x", "y"], extra_field: true }),
    ].join("\n");
    const questions = parseQuestions(text, "q.jsonl");
    expect(questions.map((q) => q.id)).toEqual(["81", "q-2", "3"]);
    expect(questions[0]).toEqual({ id: "81", category: "writing", turns: ["Write a haiku.", "Now in Spanish."], reference: null });
    expect(referenceFor(questions[1]!)).toEqual(["2"]);
  });

  it.each([
    { name: "broken JSON", lines: [line({ question_id: 1, category: "math", turns: ["a"] }), "{not json"], at: 2, says: /not valid JSON/ },
    { name: "no turns", lines: [line({ question_id: 1, category: "math", turns: [] })], at: 1, says: /turns/ },
    { name: "three turns", lines: [line({ question_id: 1, category: "math", turns: ["a", "b", "c"] })], at: 1, says: /turns/ },
    { name: "an empty turn", lines: ["", line({ question_id: 1, category: "math", turns: [""] })], at: 2, says: /turns\.0/ },
    { name: "no category", lines: [line({ question_id: 1, turns: ["a"] })], at: 1, says: /category/ },
    { name: "a repeated id", lines: [line({ question_id: 7, category: "x", turns: ["a"] }), line({ question_id: "7", category: "x", turns: ["b"] })], at: 2, says: /repeats line 1/ },
    { name: "more references than turns", lines: [line({ question_id: 1, category: "math", turns: ["a"], reference: ["1", "2"] })], at: 1, says: /reference has 2/ },
    { name: "an empty file", lines: ["", "  "], at: 1, says: /no questions/ },
  ])("refuses $name, naming the line", ({ lines, at, says }) => {
    let error: unknown;
    try {
      parseQuestions(lines.join("\n"), "set.jsonl");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(QuestionFileError);
    expect((error as QuestionFileError).line).toBe(at);
    expect((error as Error).message).toMatch(new RegExp(`^set\\.jsonl:${at}: `));
    expect((error as Error).message).toMatch(says);
  });

  it.each([
    ["writing", 0.7],
    ["roleplay", 0.7],
    ["stem", 0.1],
    ["humanities", 0.1],
    ["math", 0],
    ["reasoning", 0],
    ["coding", 0],
    ["extraction", 0],
    ["anything else", 0],
  ])("%s is answered at temperature %s", (category, t) => {
    expect(categoryTemperature(category)).toBe(t);
  });

  it("shows references only in math, reasoning and coding", () => {
    const q = (category: string) => ({ id: "1", category, turns: ["a"], reference: ["r"] });
    expect(referenceFor(q("writing"))).toBeNull();
    expect(referenceFor(q("reasoning"))).toEqual(["r"]);
  });
});

describe("verdicts", () => {
  it.each([
    ["The answer is fine. [[7]]", 7],
    ["Rating: [[ 10 ]]", 10],
    ["[[7.5]]", 7.5],
    ["first [[8]] and again [[8]]", 8],
    ["[[1]]", 1],
    ["8/10", null],
    ["Rating: [8]", null],
    ["[[11]]", null],
    ["[[0]]", null],
    ["[[6]] or maybe [[7]]", null],
    ["", null],
  ])("rating in %j is %s", (text, rating) => {
    expect(parseRating(text)).toBe(rating);
  });

  it.each([
    ["A is better. [[A]]", "A"],
    ["[[B]]", "B"],
    ["Equal. [[C]]", "tie"],
    ["[[ A ]] ... [[A]]", "A"],
    ["Assistant A is better", null],
    ["[A]", null],
    ["[[A]] no wait [[B]]", null],
    ["[[D]]", null],
  ])("comparison in %j is %s", (text, verdict) => {
    expect(parsePairVerdict(text)).toBe(verdict);
  });
});

describe("pairwise games", () => {
  it.each([
    // verdict, swapped → winner
    ["A", false, "model_a"],
    ["B", false, "model_b"],
    ["A", true, "model_b"],
    ["B", true, "model_a"],
    ["tie", true, "tie"],
    [null, false, "error"],
  ] as const)("verdict %s with swapped=%s is %s", (verdict, swapped, winner) => {
    expect(gameWinner(verdict, swapped)).toBe(winner);
  });

  it.each([
    ["model_a", "model_a", "model_a"],
    ["model_b", "model_b", "model_b"],
    ["model_a", "model_b", "tie"],
    ["tie", "model_a", "tie"],
    ["tie", "tie", "tie"],
    ["error", "model_a", "error"],
  ] as const)("%s then %s is %s", (g1, g2, winner) => {
    expect(combineGames(g1, g2)).toBe(winner);
  });

  it("a judge that always prefers the first position gives only ties", () => {
    expect(combineGames(gameWinner("A", false), gameWinner("A", true))).toBe("tie");
  });

  it.each([
    [["m1", "m2", "m3"], null, [["m1", "m2"], ["m1", "m3"], ["m2", "m3"]]],
    [["m1", "m2", "base"], "base", [["m1", "base"], ["m2", "base"]]],
  ] as const)("pairs of %j with baseline %s", (models, baseline, pairs) => {
    expect(pairsToJudge(models, baseline)).toEqual(pairs);
  });
});

describe("results", () => {
  const categoryOf = new Map([
    ["1", "math"],
    ["2", "writing"],
  ]);
  it("single: means overall, per category and per turn, unparsed left out and counted", () => {
    const judgments: SingleJudgment[] = [
      { question_id: "1", model: "x", turn: 1, rating: 8 },
      { question_id: "1", model: "x", turn: 2, rating: 6 },
      { question_id: "2", model: "x", turn: 1, rating: 4 },
      { question_id: "2", model: "x", turn: 2, rating: -1 },
      { question_id: "1", model: "y", turn: 1, rating: -1 },
    ];
    const r = singleResults(judgments, categoryOf, "judge", ["x", "y"]);
    expect(r.models.x).toEqual({ score: 6, categories: { math: 7, writing: 4 }, turns: [6, 6], unparsed: 1 });
    expect(r.models.y).toEqual({ score: null, categories: {}, turns: [null, null], unparsed: 1 });
    expect(r.pairwise).toEqual({});
  });

  it("pairwise: wins, losses and ties both ways, adjusted win rate, errors counted apart", () => {
    const j = (question_id: string, turn: 1 | 2, winner: PairJudgment["winner"]): PairJudgment => ({ question_id, model_a: "x", model_b: "y", turn, g1_winner: winner, g2_winner: winner, winner });
    const r = pairwiseResults([j("1", 1, "model_a"), j("1", 2, "model_a"), j("2", 1, "tie"), j("2", 2, "model_b"), j("2", 2, "error")], categoryOf, "judge", ["x", "y"]);
    expect(r.pairwise.x!.y).toEqual({ win: 2, loss: 1, tie: 1, win_rate_adjusted: 2.5 / 4 });
    expect(r.pairwise.y!.x).toEqual({ win: 1, loss: 2, tie: 1, win_rate_adjusted: 1.5 / 4 });
    expect(r.models.x).toMatchObject({ score: 2.5 / 4, categories: { math: 1, writing: 0.25 }, turns: [0.75, 0.5], unparsed: 1 });
  });
});

describe("retries and progress", () => {
  it.each([
    ["2", 2000],
    ["0", 0],
    [" 1.5 ", 1500],
    ["Wed, 21 Oct 2015 07:28:05 GMT", 5000],
    ["soon", null],
    [null, null],
  ] as const)("Retry-After %j waits %s ms", (header, ms) => {
    expect(retryAfterMs(header, Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(ms);
  });

  it.each([
    [0, "0s"],
    [59_400, "59s"],
    [61_000, "1m01s"],
    [3_725_000, "1h02m"],
  ])("%s ms reads %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("estimates time left from this run's pace, and the judge's cost from its prices", () => {
    expect(estimateLeftMs(0, 10, 5_000)).toBeNull();
    expect(estimateLeftMs(5, 10, 5_000)).toBe(10_000);
    expect(judgeCost({ judgeInputPerMillion: 2.5, judgeOutputPerMillion: 10 }, 1_000_000, 100_000)).toBeCloseTo(3.5, 10);
    let now = 0;
    const lines: string[] = [];
    const tally = new Tally({ judgeInputPerMillion: 1, judgeOutputPerMillion: 2 }, { isTTY: false, write: (t) => lines.push(t) }, () => now);
    tally.phase("judgments", 10, 2);
    now = 4_000;
    tally.tokens("judgments", 500_000, 250_000);
    tally.done("judgments");
    tally.unparsed();
    expect(tally.line()).toBe("judgments [######··············] 3/10 · 28s left · answers 0 tok · judge 750.0k tok $1.0000 · 1 unparsed");
    expect(lines[0]).toMatch(/^judgments \[####/);
  });
});

describe("options", () => {
  const base = ["--models", "m1,m2", "--api-key", "k", "--judge-model", "gpt-4o"];
  it("flags over environment over defaults", () => {
    const o = parseOptions([...base, "--concurrency", "8"], { EVAL_CONCURRENCY: "2", EVAL_MODE: "pairwise" });
    expect(o).toMatchObject({ models: ["m1", "m2"], concurrency: 8, mode: "pairwise", maxTokens: 1024, questions: "eval/questions/altiplano-80.jsonl", record: false });
  });
  it.each([
    [["--models", "m1", "--judge-model", "j"], /--api-key \/ ALTIPLANO_API_KEY: is required/],
    [[...base, "--mode", "best"], /--mode/],
    [[...base, "--concurrency", "0"], /--concurrency/],
    [[...base, "--baseline", "m1"], /--baseline.*only applies with --mode pairwise/],
    [[...base, "--record"], /--admin-key.*is required with --record/],
    [[...base, "--colour", "red"], /Unknown option '--colour'/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseOptions(argv, {})).toThrow(message);
  });
  it("--help wins", () => {
    expect(parseOptions(["--help"], {})).toBe("help");
  });
});
