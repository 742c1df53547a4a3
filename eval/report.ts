/**
 * The run's Markdown report and its SVG charts: score per model, score per category (grouped
 * bars, as MT-bench shows them), and for pairwise runs the win/tie/loss table.
 */
import { barChart } from "../bench/lib/svg-chart.js";
import { fmt, markdownTable } from "../bench/lib/markdown.js";
import type { Question } from "./questions.js";
import type { RunFiles } from "./run-files.js";
import type { EvalResults, PairJudgment, SingleJudgment } from "./scoring.js";

export interface ReportInput {
  questions: readonly Question[];
  judgments: readonly (SingleJudgment | PairJudgment)[];
  /** Judged games on record (each one or two judge calls). */
  judgeGames: number;
}

const scoreText = (mode: EvalResults["mode"], v: number | null) => (v === null ? "–" : mode === "single" ? fmt(v, 2) : `${fmt(v * 100, 1)} %`);

/** The report's Markdown, and the charts it embeds by file name. */
export function renderReport(results: EvalResults, input: ReportInput): { markdown: string; charts: Record<string, string> } {
  const models = Object.keys(results.models);
  const categories = [...new Set(input.questions.map((q) => q.category))];
  const single = results.mode === "single";
  const unit = single ? "mean rating (1–10)" : "adjusted win rate";
  const asChart = (v: number | null) => (v === null ? NaN : single ? v : v * 100);
  const charts: Record<string, string> = {
    "scores.svg": barChart({
      title: single ? "Score per model (judge's mean rating)" : "Adjusted win rate per model",
      yLabel: single ? "mean rating" : "win rate, %",
      categories: ["turn 1", "turn 2", "overall"],
      groups: models.map((m) => ({ name: m, values: [asChart(results.models[m]!.turns[0]), asChart(results.models[m]!.turns[1]), asChart(results.models[m]!.score)] })),
    }),
    "categories.svg": barChart({
      title: single ? "Score per category" : "Adjusted win rate per category",
      yLabel: single ? "mean rating" : "win rate, %",
      categories,
      groups: models.map((m) => ({ name: m, values: categories.map((c) => asChart(results.models[m]!.categories[c] ?? null)) })),
    }),
  };
  const rows = models.map((m) => ({ model: m, r: results.models[m]! }));
  let md = `# Evaluation: ${single ? "single-answer grading" : "pairwise comparison"}

Judge: \`${results.judge_model}\` at temperature 0 · ${input.questions.length} questions · ${input.judgeGames} judged games ·
score: ${unit}. Unparsed verdicts (the judge did not write one in the asked form, twice) are counted and left out of the scores.

${markdownTable(
  [
    { header: "model", cell: (x: (typeof rows)[number]) => `\`${x.model}\`` },
    { header: "score", align: "right", cell: (x) => scoreText(results.mode, x.r.score) },
    { header: "turn 1", align: "right", cell: (x) => scoreText(results.mode, x.r.turns[0]) },
    { header: "turn 2", align: "right", cell: (x) => scoreText(results.mode, x.r.turns[1]) },
    { header: "unparsed", align: "right", cell: (x) => String(x.r.unparsed) },
  ],
  rows,
)}

![Score per model](scores.svg)

${markdownTable(
  [{ header: "category", cell: (c: string) => c }, ...models.map((m) => ({ header: `\`${m}\``, align: "right" as const, cell: (c: string) => scoreText(results.mode, results.models[m]!.categories[c] ?? null) }))],
  categories,
)}

![Score per category](categories.svg)
`;
  if (!single) {
    const pairs = Object.entries(results.pairwise).flatMap(([a, others]) => Object.entries(others).filter(([b]) => a < b).map(([b, r]) => ({ a, b, r })));
    md += `
## Win / tie / loss

Each pair judged in both orders; a verdict that changes with the order counts as a tie.

${markdownTable(
  [
    { header: "model A", cell: (x: (typeof pairs)[number]) => `\`${x.a}\`` },
    { header: "model B", cell: (x) => `\`${x.b}\`` },
    { header: "A wins", align: "right", cell: (x) => String(x.r.win) },
    { header: "ties", align: "right", cell: (x) => String(x.r.tie) },
    { header: "B wins", align: "right", cell: (x) => String(x.r.loss) },
    { header: "A's adjusted win rate", align: "right", cell: (x) => scoreText("pairwise", x.r.win_rate_adjusted) },
  ],
  pairs,
)}
`;
  }
  return { markdown: md, charts };
}

export async function writeReport(files: RunFiles, results: EvalResults, input: ReportInput): Promise<void> {
  const { markdown, charts } = renderReport(results, input);
  await files.write("report.md", markdown);
  for (const [name, svg] of Object.entries(charts)) await files.write(name, svg);
}
