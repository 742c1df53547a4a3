/**
 * `npm run eval` against the local stack, with a loopback fake judge. The fake is a test double:
 * its verdicts are whatever each test scripts, chosen from what it is shown, so the tests check
 * the protocol (what is asked, how verdicts are read, retried, resumed and scored) and say nothing
 * about any model's quality. Two simulated models that answer differently: one echoes the
 * question, one writes lorem ipsum.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseQuestions, type Question } from "../../eval/questions.js";
import { runEval, type EvalOptions } from "../../eval/run.js";
import type { EvalResults } from "../../eval/scoring.js";
import { startStack, type Stack } from "../../scripts/stack.js";
import type { EvalRunList } from "../../wire/evals.js";
import { startFakeOpenAI, type FakeOpenAI } from "../fake-openai/index.js";

const LOREM = "vicuna-13b-v1.5";
const ECHO = "vicuna-7b-v1.5";
const MODELS = JSON.stringify([LOREM, ECHO].map((id) => ({ id, template: "vicuna_v1.1", contextLength: 2048, defaultMaxTokens: 32 })));
const JUDGE = "fake-judge";

const QUESTIONS: Question[] = parseQuestions(
  [
    { question_id: 1, category: "writing", turns: ["Write a toast for a weaving cooperative (w1).", "Make it rhyme (w2)."] },
    { question_id: 2, category: "math", turns: ["What is 17 * 23? (m1)", "And 17 * 24? (m2)"], reference: ["391", "408"] },
    { question_id: 3, category: "coding", turns: ["Reverse a string in Python (c1)."], reference: ["s[::-1]"] },
    { question_id: 4, category: "stem", turns: ["Why is the sky dark at night? (s1)", "And on the altiplano? (s2)"] },
  ]
    .map((q) => JSON.stringify(q))
    .join("\n"),
  "test",
);
const TURNS = QUESTIONS.reduce((n, q) => n + q.turns.length, 0);

let stack: Stack;
let judge: FakeOpenAI;
let scratch: string;

beforeAll(async () => {
  stack = await startStack({ sims: 1, models: [LOREM], sim: { reply: "lorem", fast: true }, vars: { MODELS } });
  await stack.addWorker("sim-echo", { model: ECHO, reply: "echo", fast: true });
  await stack.waitForReady(["sim-echo"]);
  judge = await startFakeOpenAI();
  scratch = await mkdtemp(path.join(tmpdir(), "altiplano-eval-"));
}, 120_000);

afterAll(async () => {
  await judge?.stop();
  await stack?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function options(out: string, overrides: Partial<EvalOptions> = {}): EvalOptions {
  return {
    questions: QUESTIONS,
    models: [LOREM, ECHO],
    gateway: { baseUrl: `${stack.url}/v1`, apiKey: stack.userKey },
    judge: { baseUrl: judge.baseUrl, apiKey: "fake", model: JUDGE },
    mode: "single",
    baseline: null,
    outDir: path.join(scratch, out),
    concurrency: 3,
    maxTokens: 24,
    retry: { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 2_000 },
    ...overrides,
  };
}

/** The judge's user message of a recorded request. */
function promptOf(body: unknown): string {
  const messages = (body as { messages: { role: string; content: string }[] }).messages;
  return messages.find((m) => m.role === "user")!.content;
}

/** Which model's answer a single-mode prompt shows: the echo model repeats the turn it answers. */
function shownModel(prompt: string, question: Question, turn: 1 | 2): string {
  const marker = turn === 1 ? `[Answer]\n${question.turns[0]}\n` : `Assistant:\n${question.turns[1]}\n`;
  return prompt.includes(marker) ? ECHO : LOREM;
}

function questionOf(prompt: string): { question: Question; turn: 1 | 2 } {
  const question = QUESTIONS.find((q) => prompt.includes(q.turns[0]!))!;
  const turn = prompt.startsWith("[Dialogue]") ? 2 : 1;
  return { question, turn };
}

/** The ratings this fake gives, by what it is shown. */
function ratingFor(model: string, category: string, turn: 1 | 2): number {
  if (model === ECHO) return turn === 1 ? 3 : 4;
  return category === "math" ? 9 : turn === 1 ? 8 : 7;
}

const ratingJudge = (body: unknown) => {
  const prompt = promptOf(body);
  const { question, turn } = questionOf(prompt);
  return { kind: "ok" as const, text: `Some reasoning.\n[[${ratingFor(shownModel(prompt, question, turn), question.category, turn)}]]`, usage: { prompt_tokens: 100, completion_tokens: 10 } };
};

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

async function readResults(out: string): Promise<EvalResults> {
  // Test-side parse of the run's own typed output.
  return JSON.parse(await readFile(path.join(scratch, out, "results.json"), "utf8")) as EvalResults;
}

describe("npm run eval against the local stack and a fake judge", () => {
  it("single mode: per-turn ratings at temperature 0, references shown where they belong, means as the judge gave them", async () => {
    judge.reset();
    judge.respondWith(ratingJudge);
    const outcome = await runEval(options("single"));
    expect(outcome.complete).toBe(true);
    expect(outcome.judgeCalls).toBe(TURNS * 2);
    expect(judge.requests).toHaveLength(TURNS * 2);
    for (const r of judge.requests) {
      expect(r.body).toMatchObject({ model: JUDGE, temperature: 0 });
      const prompt = promptOf(r.body);
      const { question } = questionOf(prompt);
      expect(prompt.includes("[Reference]")).toBe(question.category === "math" || question.category === "coding");
      expect(prompt).toMatch(/\[\[rating\]\]|Rate/);
    }
    const results = await readResults("single");
    for (const model of [LOREM, ECHO]) {
      const given = QUESTIONS.flatMap((q) => q.turns.map((_, i) => ({ category: q.category, turn: (i + 1) as 1 | 2, rating: ratingFor(model, q.category, (i + 1) as 1 | 2) })));
      expect(results.models[model]!.score).toBeCloseTo(mean(given.map((g) => g.rating)), 10);
      expect(results.models[model]!.turns[0]).toBeCloseTo(mean(given.filter((g) => g.turn === 1).map((g) => g.rating)), 10);
      for (const category of ["writing", "math", "coding", "stem"]) {
        expect(results.models[model]!.categories[category]).toBeCloseTo(mean(given.filter((g) => g.category === category).map((g) => g.rating)), 10);
      }
      expect(results.models[model]!.unparsed).toBe(0);
    }
    const judgments = (await readFile(path.join(scratch, "single", "judgments.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(judgments).toHaveLength(TURNS * 2);
    expect(judgments[0]).toEqual({ question_id: "1", model: LOREM, turn: 1, rating: 8 });
    const report = await readFile(path.join(scratch, "single", "report.md"), "utf8");
    expect(report).toContain("![Score per category](categories.svg)");
    expect(await readFile(path.join(scratch, "single", "categories.svg"), "utf8")).toMatch(/^<svg[\s\S]*<\/svg>$/);
  });

  it("pairwise, judged again from the same answers: a judge that always says [[A]] gives only ties", async () => {
    judge.reset();
    judge.setDefault({ kind: "ok", text: "The first is better. [[A]]" });
    const outcome = await runEval(options("single", { mode: "pairwise" }));
    expect(outcome.generated).toBe(0);
    expect(judge.requests).toHaveLength(TURNS * 2);
    const judgments = (await readFile(path.join(scratch, "single", "judgments.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(judgments).toHaveLength(TURNS);
    for (const j of judgments) expect(j).toMatchObject({ model_a: LOREM, model_b: ECHO, g1_winner: "model_a", g2_winner: "model_b", winner: "tie" });
    const results = await readResults("single");
    expect(results.pairwise[LOREM]![ECHO]).toEqual({ win: 0, loss: 0, tie: TURNS, win_rate_adjusted: 0.5 });
    expect(results.models[ECHO]!.score).toBe(0.5);
  });

  it("a judge that never writes a verdict in the asked form: asked once more, then counted as unparsed", async () => {
    judge.reset();
    judge.setDefault({ kind: "ok", text: "I would give this a solid eight out of ten." });
    const outcome = await runEval(options("unformatted"));
    expect(outcome.complete).toBe(true);
    expect(judge.requests).toHaveLength(TURNS * 2 * 2);
    const results = await readResults("unformatted");
    for (const model of [LOREM, ECHO]) expect(results.models[model]).toEqual({ score: null, categories: {}, turns: [null, null], unparsed: TURNS });
    const ratings = (await readFile(path.join(scratch, "unformatted", "judgments.jsonl"), "utf8")).trim().split("\n").map((l) => (JSON.parse(l) as { rating: number }).rating);
    expect(new Set(ratings)).toEqual(new Set([-1]));
  });

  it("a 429 with Retry-After is waited out and retried", async () => {
    judge.reset();
    judge.respondWith(ratingJudge);
    judge.script({ kind: "status", status: 429, headers: { "retry-after": "1" } });
    const outcome = await runEval(options("rate-limited", { concurrency: 1 }));
    expect(outcome.complete).toBe(true);
    expect(judge.requests).toHaveLength(TURNS * 2 + 1);
    expect(judge.requests[1]!.at - judge.requests[0]!.at).toBeGreaterThanOrEqual(950);
    expect(promptOf(judge.requests[1]!.body)).toBe(promptOf(judge.requests[0]!.body));
    expect((await readResults("rate-limited")).models[LOREM]!.unparsed).toBe(0);
  });

  it("a run stopped midway and resumed asks the judge nothing twice and regenerates nothing", async () => {
    judge.reset();
    const controller = new AbortController();
    let answered = 0;
    judge.respondWith((body) => {
      if (++answered === 5) controller.abort(new Error("Ctrl-C"));
      return ratingJudge(body);
    });
    const first = await runEval(options("resumed"), { signal: controller.signal });
    expect(first.complete).toBe(false);
    const askedFirst = judge.requests.length;
    expect(askedFirst).toBeGreaterThanOrEqual(5);
    expect(askedFirst).toBeLessThan(TURNS * 2);

    const second = await runEval(options("resumed"));
    expect(second.complete).toBe(true);
    expect(second.generated).toBe(0);
    expect(second.judgeCalls).toBe(TURNS * 2 - askedFirst);
    const prompts = judge.requests.map((r) => promptOf(r.body));
    expect(prompts).toHaveLength(TURNS * 2);
    // Distinct games have distinct prompts (different question, turn or answer).
    expect(new Set(prompts).size).toBe(TURNS * 2);
    const answers = (await readFile(path.join(scratch, "resumed", "answers.jsonl"), "utf8")).trim().split("\n");
    expect(answers).toHaveLength(QUESTIONS.length * 2);
    expect((await readResults("resumed")).models[ECHO]!.score).toBeCloseTo((await readResults("rate-limited")).models[ECHO]!.score!, 10);
  });

  it("the command line: a file of questions, a run recorded in the gateway, a malformed file refused with its line", async () => {
    judge.reset();
    judge.respondWith(ratingJudge);
    const file = path.join(scratch, "two.jsonl");
    await writeFile(file, QUESTIONS.slice(0, 2).map((q) => JSON.stringify({ question_id: Number(q.id), category: q.category, turns: q.turns, reference: q.reference ?? undefined })).join("\n"));
    const out = path.join(scratch, "cli");
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", "eval/main.ts", ...args], {
          env: { ...process.env, ALTIPLANO_API_KEY: stack.userKey, ALTIPLANO_ADMIN_KEY: stack.adminKey },
          stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (code) => resolve({ code, stderr }));
      });
    const ok = await run(["--models", `${LOREM},${ECHO}`, "--questions", file, "--gateway-url", stack.url, "--judge-base-url", judge.baseUrl, "--judge-model", JUDGE, "--out", out, "--record", "--judge-input-price", "2.5", "--judge-output-price", "10"]);
    expect(ok.stderr).toMatch(/done in .* 8 judge calls · judge 880 tokens, \$0\.0028/);
    expect(ok.code).toBe(0);
    const recorded = await fetch(`${stack.url}/admin/evals`, { headers: { authorization: `Bearer ${stack.adminKey}` } });
    // Test-side parse of the gateway's own typed response.
    const list = (await recorded.json()) as EvalRunList;
    expect(list.data[0]).toMatchObject({ object: "eval.run", question_set: file, question_count: 2, results: { mode: "single", judge_model: JUDGE } });
    expect(list.data[0]!.results.models[ECHO]!.score).toBeCloseTo(mean([3, 4, 3, 4]), 10);

    await writeFile(file, `${JSON.stringify({ question_id: 1, category: "math", turns: ["a"] })}\n{"question_id": 2, "turns": "oops"}\n`);
    const bad = await run(["--models", LOREM, "--questions", file, "--judge-model", JUDGE, "--out", out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${file}:2: `);
  });
});
