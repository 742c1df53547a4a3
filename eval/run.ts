/**
 * An evaluation run: answers from each model through the gateway, then the judge's verdicts, then
 * judgments, results and the report. Everything already in the run's directory is reused
 * (run-files.ts), so a run stopped by Ctrl-C (the signal) continues where it stopped.
 */
import type { Endpoint } from "./openai-client.js";
import { chat, type ChatMessage, type RetryPolicy } from "./openai-client.js";
import { pairPrompt, singlePrompt } from "./judge-prompts.js";
import { categoryTemperature, referenceFor, type Question } from "./questions.js";
import { RunFiles, type AnswerRecord, type GameRecord } from "./run-files.js";
import {
  combineGames,
  gameWinner,
  pairwiseResults,
  singleResults,
  type EvalResults,
  type Mode,
  type PairJudgment,
  type SingleJudgment,
} from "./scoring.js";
import { parsePairVerdict, parseRating } from "./verdicts.js";
import { writeReport } from "./report.js";
import type { Tally } from "./progress.js";

export interface EvalOptions {
  questions: Question[];
  models: string[];
  gateway: Endpoint;
  judge: Endpoint & { model: string };
  mode: Mode;
  /** Pairwise: compare every model with this one; null = all pairs. */
  baseline: string | null;
  outDir: string;
  concurrency: number;
  /** Longest answer per turn, in tokens. */
  maxTokens: number;
  retry?: RetryPolicy;
}

export interface EvalHooks {
  signal?: AbortSignal;
  tally?: Tally;
  log?: (line: string) => void;
}

export interface EvalOutcome {
  /** False when the signal stopped it; what was done is kept for the next run. */
  complete: boolean;
  results: EvalResults | null;
  judgeCalls: number;
  generated: number;
}

/**
 * Runs `work` over `items`, at most `limit` at a time; once the signal fires no new item starts,
 * and the ones under way finish (so their results are kept).
 */
async function eachLimited<T>(items: readonly T[], limit: number, signal: AbortSignal | undefined, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown = null;
  const lane = async () => {
    while (next < items.length && !signal?.aborted && failure === null) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        if (signal?.aborted) return;
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure !== null) throw failure;
}

const answerKey = (questionId: string, model: string) => `${model}\u0000${questionId}`;

/** The pairs compared: (model, baseline) for each other model, or every pair in the order given. */
export function pairsToJudge(models: readonly string[], baseline: string | null): [string, string][] {
  if (baseline !== null) return models.filter((m) => m !== baseline).map((m) => [m, baseline]);
  const pairs: [string, string][] = [];
  for (let i = 0; i < models.length; i++) for (let j = i + 1; j < models.length; j++) pairs.push([models[i]!, models[j]!]);
  return pairs;
}

interface Game {
  key: string;
  question: Question;
  turn: 1 | 2;
  /** The models in the order the judge sees them. */
  shown: string[];
  messages(answers: (model: string) => string[]): ChatMessage[];
  parse(text: string): GameRecord["verdict"];
}

function gamesOf(options: EvalOptions): Game[] {
  const games: Game[] = [];
  const judge = options.judge.model;
  for (const question of options.questions) {
    const reference = referenceFor(question);
    for (const turn of question.turns.length === 2 ? ([1, 2] as const) : ([1] as const)) {
      if (options.mode === "single") {
        for (const model of options.models) {
          games.push({
            key: `single|${judge}|${question.id}|${model}|${turn}`,
            question,
            turn,
            shown: [model],
            messages: (answers) => singlePrompt({ questions: question.turns, answers: answers(model), turn, reference }),
            parse: parseRating,
          });
        }
        continue;
      }
      for (const [a, b] of pairsToJudge(options.models, options.baseline)) {
        for (const shown of [
          [a, b],
          [b, a],
        ]) {
          games.push({
            key: `pair|${judge}|${question.id}|${shown[0]}|${shown[1]}|${turn}`,
            question,
            turn,
            shown,
            messages: (answers) => pairPrompt({ questions: question.turns, answersA: answers(shown[0]!), answersB: answers(shown[1]!), turn, reference }),
            parse: parsePairVerdict,
          });
        }
      }
    }
  }
  return games;
}

function judgmentsOf(options: EvalOptions, games: ReadonlyMap<string, GameRecord>): SingleJudgment[] | PairJudgment[] {
  const judge = options.judge.model;
  const out: (SingleJudgment | PairJudgment)[] = [];
  for (const question of options.questions) {
    for (const turn of question.turns.length === 2 ? ([1, 2] as const) : ([1] as const)) {
      if (options.mode === "single") {
        for (const model of options.models) {
          const game = games.get(`single|${judge}|${question.id}|${model}|${turn}`);
          if (game) out.push({ question_id: question.id, model, turn, rating: typeof game.verdict === "number" ? game.verdict : -1 });
        }
        continue;
      }
      for (const [a, b] of pairsToJudge(options.models, options.baseline)) {
        const g1 = games.get(`pair|${judge}|${question.id}|${a}|${b}|${turn}`);
        const g2 = games.get(`pair|${judge}|${question.id}|${b}|${a}|${turn}`);
        if (!g1 || !g2) continue;
        const asVerdict = (v: GameRecord["verdict"]) => (typeof v === "number" ? null : v);
        const w1 = gameWinner(asVerdict(g1.verdict), false);
        const w2 = gameWinner(asVerdict(g2.verdict), true);
        out.push({ question_id: question.id, model_a: a, model_b: b, turn, g1_winner: w1, g2_winner: w2, winner: combineGames(w1, w2) });
      }
    }
  }
  return out as SingleJudgment[] | PairJudgment[];
}

export async function runEval(options: EvalOptions, hooks: EvalHooks = {}): Promise<EvalOutcome> {
  const { signal, tally } = hooks;
  const log = hooks.log ?? (() => undefined);
  const files = new RunFiles(options.outDir);
  const existing = await files.open();
  const answers = new Map(existing.answers.map((a) => [answerKey(a.question_id, a.model), a]));
  const games = new Map(existing.games.map((g) => [g.key, g]));
  const retryNote = (what: string) => (attempt: number, delayMs: number, why: string) => log(`${what}: ${why}, retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s`);

  // 1. Answers: each model answers each question's turns in order, the second seeing the first.
  const toGenerate = options.questions.flatMap((question) => options.models.filter((model) => !answers.has(answerKey(question.id, model))).map((model) => ({ question, model })));
  tally?.phase("answers", options.questions.length * options.models.length, options.questions.length * options.models.length - toGenerate.length);
  let generated = 0;
  await eachLimited(toGenerate, options.concurrency, signal, async ({ question, model }) => {
    const messages: ChatMessage[] = [];
    const record: AnswerRecord = { question_id: question.id, model, answers: [], prompt_tokens: 0, completion_tokens: 0 };
    for (const turn of question.turns) {
      messages.push({ role: "user", content: turn });
      const result = await chat(
        options.gateway,
        { model, messages, temperature: categoryTemperature(question.category), max_tokens: options.maxTokens },
        { signal, retry: options.retry, onRetry: retryNote(`answer ${question.id} from ${model}`) },
      );
      messages.push({ role: "assistant", content: result.text });
      record.answers.push(result.text);
      record.prompt_tokens += result.promptTokens;
      record.completion_tokens += result.completionTokens;
      tally?.tokens("answers", result.promptTokens, result.completionTokens);
    }
    await files.appendAnswer(record);
    answers.set(answerKey(question.id, model), record);
    generated++;
    tally?.done("answers");
  });
  if (signal?.aborted) return { complete: false, results: null, judgeCalls: 0, generated };

  // 2. Verdicts: a verdict the judge did not write in the asked form is asked for once more, then recorded as unparsed.
  const allGames = gamesOf(options);
  const toJudge = allGames.filter((g) => !games.has(g.key));
  tally?.phase("judgments", allGames.length, allGames.length - toJudge.length);
  let judgeCalls = 0;
  const answersOf = (questionId: string) => (model: string) => answers.get(answerKey(questionId, model))!.answers;
  await eachLimited(toJudge, options.concurrency, signal, async (game) => {
    const messages = game.messages(answersOf(game.question.id));
    let record: GameRecord | null = null;
    let promptTokens = 0;
    let completionTokens = 0;
    for (let call = 1; call <= 2; call++) {
      const result = await chat(
        options.judge,
        { model: options.judge.model, messages, temperature: 0, max_tokens: 1024 },
        { signal, retry: options.retry, onRetry: retryNote(`judge on ${game.question.id}`) },
      );
      judgeCalls++;
      promptTokens += result.promptTokens;
      completionTokens += result.completionTokens;
      tally?.tokens("judgments", result.promptTokens, result.completionTokens);
      const verdict = game.parse(result.text);
      record = {
        key: game.key,
        judge_model: options.judge.model,
        question_id: game.question.id,
        turn: game.turn,
        shown: game.shown,
        output: result.text,
        verdict,
        calls: call,
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
      };
      if (verdict !== null) break;
    }
    await files.appendGame(record!);
    games.set(game.key, record!);
    if (record!.verdict === null) tally?.unparsed();
    tally?.done("judgments");
  });
  if (signal?.aborted) return { complete: false, results: null, judgeCalls, generated };

  // 3. Outputs, all derived from the two logs.
  const judgments = judgmentsOf(options, games);
  const categoryOf = new Map(options.questions.map((q) => [q.id, q.category]));
  const results =
    options.mode === "single"
      ? singleResults(judgments as SingleJudgment[], categoryOf, options.judge.model, options.models)
      : pairwiseResults(judgments as PairJudgment[], categoryOf, options.judge.model, options.models);
  await files.write("judgments.jsonl", judgments.map((j) => JSON.stringify(j)).join("\n") + (judgments.length > 0 ? "\n" : ""));
  await files.write("results.json", `${JSON.stringify(results, null, 2)}\n`);
  await writeReport(files, results, { questions: options.questions, judgments, judgeGames: games.size });
  return { complete: true, results, judgeCalls, generated };
}
