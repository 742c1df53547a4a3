/**
 * Recorded evaluation runs (`POST /admin/evals`, `GET /admin/evals`): the results an
 * `npm run eval` run wrote (its results.json), kept in the gateway so operators can see judge
 * scores beside the arena's human votes. The eval CLI and the gateway both use these shapes.
 */
import { z } from "zod";

const Score = z.number().nullable();

export const EvalResultsSchema = z
  .object({
    mode: z.enum(["single", "pairwise"]),
    judge_model: z.string().min(1).max(256),
    models: z.record(
      z.string().min(1).max(256),
      z.object({
        score: Score,
        categories: z.record(z.string().max(64), Score),
        turns: z.tuple([Score, Score]),
        unparsed: z.number().int().min(0),
      }),
    ),
    pairwise: z.record(
      z.string().max(256),
      z.record(z.string().max(256), z.object({ win: z.number().int().min(0), loss: z.number().int().min(0), tie: z.number().int().min(0), win_rate_adjusted: Score })),
    ),
  })
  .refine((r) => Object.keys(r.models).length >= 1 && Object.keys(r.models).length <= 64, { message: "between 1 and 64 models", path: ["models"] });
export type EvalResults = z.infer<typeof EvalResultsSchema>;

export const RecordEvalBody = z
  .object({
    /** Which questions: a file name or a label. */
    question_set: z.string().min(1).max(256),
    question_count: z.number().int().min(1).max(100_000),
    results: EvalResultsSchema,
  })
  .strict();
export type RecordEvalBody = z.infer<typeof RecordEvalBody>;

export const EvalRunSchema = z.object({
  id: z.string(),
  object: z.literal("eval.run"),
  /** Unix seconds. */
  created_at: z.number().int(),
  question_set: z.string(),
  question_count: z.number().int(),
  results: EvalResultsSchema,
});
export type EvalRun = z.infer<typeof EvalRunSchema>;

export const EvalRunListSchema = z.object({ object: z.literal("list"), data: z.array(EvalRunSchema) });
export type EvalRunList = z.infer<typeof EvalRunListSchema>;
