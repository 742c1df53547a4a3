/**
 * From judge verdicts to judgments and results, as MT-bench scores them. Pure.
 *
 * Single mode: a model's score is the mean of its parsed ratings (overall, per category, per
 * turn); unparsed ratings are counted and left out. Pairwise mode: each pair is judged twice, the
 * second time with the answers' positions swapped; the two verdicts, mapped back to model names,
 * must agree to count as a win, and any disagreement is a tie (so a judge that always prefers the
 * first position produces only ties). A model's score there is its adjusted win rate,
 * (win + ½·tie) / games.
 */
import type { EvalResults as WireEvalResults } from "../wire/evals.js";
import type { SameShape } from "../wire/openai.js";
import type { PairVerdict } from "./verdicts.js";

export type Mode = "single" | "pairwise";

/** `judgments.jsonl`, single mode: one line per judged turn; rating −1 when the judge's verdict could not be read. */
export interface SingleJudgment {
  question_id: string;
  model: string;
  turn: 1 | 2;
  rating: number;
}

export type PairWinner = "model_a" | "model_b" | "tie" | "error";

/** `judgments.jsonl`, pairwise mode: g2 is the swapped order, already mapped back to model names. */
export interface PairJudgment {
  question_id: string;
  model_a: string;
  model_b: string;
  turn: 1 | 2;
  g1_winner: PairWinner;
  g2_winner: PairWinner;
  winner: PairWinner;
}

/** The verdict of one game mapped to model names; `swapped` = model_b was shown as A. */
export function gameWinner(verdict: PairVerdict | null, swapped: boolean): PairWinner {
  if (verdict === null) return "error";
  if (verdict === "tie") return "tie";
  return (verdict === "A") !== swapped ? "model_a" : "model_b";
}

/** Two games into one judgment: agreement wins, disagreement ties, an unread game makes it unparsed. */
export function combineGames(g1: PairWinner, g2: PairWinner): PairWinner {
  if (g1 === "error" || g2 === "error") return "error";
  return g1 === g2 ? g1 : "tie";
}

export interface ModelResult {
  /** Mean rating (single) or adjusted win rate (pairwise); null when nothing was parsed. */
  score: number | null;
  categories: Record<string, number | null>;
  /** Turn 1, turn 2. */
  turns: [number | null, number | null];
  unparsed: number;
}

export interface PairResult {
  win: number;
  loss: number;
  tie: number;
  win_rate_adjusted: number | null;
}

/** `results.json`. */
export interface EvalResults {
  mode: Mode;
  judge_model: string;
  models: Record<string, ModelResult>;
  /** Pairwise mode: `pairwise[a][b]` is a's record against b (both directions are given). */
  pairwise: Record<string, Record<string, PairResult>>;
}

const mean = (xs: readonly number[]): number | null => (xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length);

function groupMeans<T>(items: readonly T[], key: (item: T) => string, value: (item: T) => number): Record<string, number | null> {
  const groups = new Map<string, number[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k) ?? [];
    list.push(value(item));
    groups.set(k, list);
  }
  return Object.fromEntries([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, xs]) => [k, mean(xs)]));
}

export function singleResults(judgments: readonly SingleJudgment[], categoryOf: ReadonlyMap<string, string>, judgeModel: string, models: readonly string[]): EvalResults {
  const out: EvalResults = { mode: "single", judge_model: judgeModel, models: {}, pairwise: {} };
  for (const model of models) {
    const mine = judgments.filter((j) => j.model === model);
    const parsed = mine.filter((j) => j.rating >= 0);
    out.models[model] = {
      score: mean(parsed.map((j) => j.rating)),
      categories: groupMeans(parsed, (j) => categoryOf.get(j.question_id) ?? "unknown", (j) => j.rating),
      turns: [mean(parsed.filter((j) => j.turn === 1).map((j) => j.rating)), mean(parsed.filter((j) => j.turn === 2).map((j) => j.rating))],
      unparsed: mine.length - parsed.length,
    };
  }
  return out;
}

/** A model's points in one judgment: 1 win, ½ tie, 0 loss; null if it did not play or the judgment is unparsed. */
function pointsOf(j: PairJudgment, model: string): number | null {
  if (j.winner === "error" || (j.model_a !== model && j.model_b !== model)) return null;
  if (j.winner === "tie") return 0.5;
  return (j.winner === "model_a") === (j.model_a === model) ? 1 : 0;
}

export function pairwiseResults(judgments: readonly PairJudgment[], categoryOf: ReadonlyMap<string, string>, judgeModel: string, models: readonly string[]): EvalResults {
  const out: EvalResults = { mode: "pairwise", judge_model: judgeModel, models: {}, pairwise: {} };
  for (const model of models) {
    const played = judgments.filter((j) => j.model_a === model || j.model_b === model);
    const scored = played.flatMap((j) => {
      const p = pointsOf(j, model);
      return p === null ? [] : [{ j, p }];
    });
    out.models[model] = {
      score: mean(scored.map((s) => s.p)),
      categories: groupMeans(scored, (s) => categoryOf.get(s.j.question_id) ?? "unknown", (s) => s.p),
      turns: [mean(scored.filter((s) => s.j.turn === 1).map((s) => s.p)), mean(scored.filter((s) => s.j.turn === 2).map((s) => s.p))],
      unparsed: played.length - scored.length,
    };
    for (const other of models) {
      if (other === model) continue;
      const record: PairResult = { win: 0, loss: 0, tie: 0, win_rate_adjusted: null };
      for (const { j, p } of scored) {
        if (j.model_a !== other && j.model_b !== other) continue;
        if (p === 1) record.win++;
        else if (p === 0) record.loss++;
        else record.tie++;
      }
      const games = record.win + record.loss + record.tie;
      if (games === 0) continue;
      record.win_rate_adjusted = (record.win + 0.5 * record.tie) / games;
      (out.pairwise[model] ??= {})[other] = record;
    }
  }
  return out;
}

// results.json is what `POST /admin/evals` records: the two shapes must stay one.
const resultsMatchTheWire: SameShape<EvalResults, WireEvalResults> = true;
void resultsMatchTheWire;
