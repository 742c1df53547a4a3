/**
 * A run's directory (`--out DIR`). Two append-only logs make a run resumable: `answers.jsonl`
 * (one line per model and question, both turns) and `judge-log.jsonl` (one line per judged game,
 * the judge's raw output kept), each line written whole once its work is done. A run started
 * again with the same directory skips what they hold, so an interrupted run repeats no call and a
 * finished one can be judged again (another judge or mode) without regenerating. The outputs —
 * `judgments.jsonl`, `results.json`, the report — are derived from them at the end.
 */
import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

export const AnswerRecord = z.object({
  question_id: z.string(),
  model: z.string(),
  answers: z.array(z.string()),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
});
export type AnswerRecord = z.infer<typeof AnswerRecord>;

export const GameRecord = z.object({
  key: z.string(),
  judge_model: z.string(),
  question_id: z.string(),
  turn: z.union([z.literal(1), z.literal(2)]),
  /** Single mode: the model rated. Pairwise: the models in the order shown (A first). */
  shown: z.array(z.string()).min(1).max(2),
  /** The judge's last reply, as written. */
  output: z.string(),
  /** Parsed rating (single) or verdict letter (pairwise); null = unparsed after the retry. */
  verdict: z.union([z.number(), z.enum(["A", "B", "tie"]), z.null()]),
  /** Judge calls made for this game: 1, or 2 when the first verdict was unreadable. */
  calls: z.number().int(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
});
export type GameRecord = z.infer<typeof GameRecord>;

async function readJsonl<T>(file: string, schema: z.ZodType<T>): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const lines = text.split("\n");
  const out: T[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    // A last line cut short by a crash mid-write is dropped (its work is simply done again).
    if (i === lines.length - 1 && !text.endsWith("\n")) return;
    out.push(schema.parse(JSON.parse(line)));
  });
  return out;
}

export class RunFiles {
  constructor(readonly dir: string) {}

  file(name: string): string {
    return path.join(this.dir, name);
  }

  async open(): Promise<{ answers: AnswerRecord[]; games: GameRecord[] }> {
    await mkdir(this.dir, { recursive: true });
    return { answers: await readJsonl(this.file("answers.jsonl"), AnswerRecord), games: await readJsonl(this.file("judge-log.jsonl"), GameRecord) };
  }

  appendAnswer(record: AnswerRecord): Promise<void> {
    return appendFile(this.file("answers.jsonl"), `${JSON.stringify(record)}\n`);
  }

  appendGame(record: GameRecord): Promise<void> {
    return appendFile(this.file("judge-log.jsonl"), `${JSON.stringify(record)}\n`);
  }

  async write(name: string, content: string): Promise<void> {
    await writeFile(this.file(name), content);
  }
}
