/**
 * Question sets in MT-bench's `question.jsonl` format: one JSON object per line with
 * `question_id`, `category`, `turns` (one or two user turns) and an optional `reference` (answers
 * the judge compares against, one per turn). Pure: the caller reads the file. A malformed line is
 * reported with its line number, never skipped, so a run never silently evaluates fewer questions.
 */
import { z } from "zod";

/** The default set's categories, as MT-bench names them. A question file may use others. */
export const CATEGORIES = ["writing", "roleplay", "reasoning", "math", "coding", "extraction", "stem", "humanities"] as const;

/** Categories whose questions carry reference answers the judge is shown (MT-bench's rule). */
export const REFERENCE_CATEGORIES: ReadonlySet<string> = new Set(["math", "reasoning", "coding"]);

const QuestionLine = z
  .object({
    question_id: z.union([z.number().int(), z.string().min(1).max(128)]),
    category: z.string().min(1).max(64),
    turns: z.array(z.string().min(1)).min(1).max(2),
    reference: z.array(z.string()).min(1).max(2).optional(),
  })
  // MT-bench files carry other fields (e.g. none today, but forks add some): ignored, not refused.
  .loose();

export interface Question {
  /** As written in the file (MT-bench uses integers); compared as text. */
  id: string;
  category: string;
  turns: string[];
  reference: string[] | null;
}

export class QuestionFileError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${source}:${line}: ${detail}`);
    this.name = "QuestionFileError";
  }
}

/** Every question of the file, in file order; blank lines are allowed, anything else malformed throws. */
export function parseQuestions(text: string, source: string): Question[] {
  const questions: Question[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      throw new QuestionFileError(source, line, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    const parsed = QuestionLine.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
      throw new QuestionFileError(source, line, `${where}${issue.message}`);
    }
    const q = parsed.data;
    if (q.reference && q.reference.length > q.turns.length) {
      throw new QuestionFileError(source, line, `reference has ${q.reference.length} answers for ${q.turns.length} turn(s)`);
    }
    const id = String(q.question_id);
    const earlier = seen.get(id);
    if (earlier !== undefined) throw new QuestionFileError(source, line, `question_id ${id} repeats line ${earlier}`);
    seen.set(id, line);
    questions.push({ id, category: q.category, turns: q.turns, reference: q.reference ?? null });
  });
  if (questions.length === 0) throw new QuestionFileError(source, 1, "no questions in the file");
  return questions;
}

/** MT-bench's sampling temperature per category: creative ones vary, knowledge ones barely, the rest not at all. */
export function categoryTemperature(category: string): number {
  if (category === "writing" || category === "roleplay") return 0.7;
  if (category === "stem" || category === "humanities") return 0.1;
  return 0;
}

/** The reference answers the judge sees for this question: only in reference categories, and only when the file has them. */
export function referenceFor(question: Question): string[] | null {
  return REFERENCE_CATEGORIES.has(question.category) ? question.reference : null;
}
