/**
 * Recorded evaluation runs, admin only: `npm run eval -- --record` posts its results here, and
 * `GET /admin/evals` lists them newest first, so judge scores can be read beside the arena's votes.
 */
import { desc } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import { z } from "zod";
import { EvalResultsSchema, RecordEvalBody, type EvalRun, type EvalRunList } from "../../wire/evals.js";
import type { AppEnv } from "../app-env.js";
import { newId } from "../auth/key-material.js";
import { requireRole } from "../auth/middleware.js";
import { evalRuns, type EvalRunRow } from "../db/schema.js";
import { refreshLeaderboard } from "../arena/leaderboard-store.js";
import { parseWith, readJsonBody } from "../http/json-body.js";

export const EvalsListQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }).strict();

function view(row: EvalRunRow): EvalRun {
  return {
    id: row.id,
    object: "eval.run",
    created_at: Math.floor(row.createdAt / 1000),
    question_set: row.questionSet,
    question_count: row.questionCount,
    // Stored by POST below after the same schema accepted it.
    results: EvalResultsSchema.parse(JSON.parse(row.results)),
  };
}

export const adminEvalsRoutes = new Hono<AppEnv>()
  .use(requireRole("admin"))
  .post("/", async (c) => {
    const body = await readJsonBody(c, RecordEvalBody);
    const row: EvalRunRow = {
      id: newId("eval"),
      createdAt: Date.now(),
      questionSet: body.question_set,
      questionCount: body.question_count,
      mode: body.results.mode,
      judgeModel: body.results.judge_model,
      results: JSON.stringify(body.results),
    };
    await drizzle(c.env.DB).insert(evalRuns).values(row);
    // The leaderboard shows the latest run's scores: refit now rather than at its next schedule.
    c.executionCtx.waitUntil(refreshLeaderboard(c.env).catch((err: unknown) => console.error("could not refresh the leaderboard", err)));
    return c.json(view(row), 201);
  })
  .get("/", async (c) => {
    const query = parseWith(EvalsListQuery, c.req.query());
    const rows = await drizzle(c.env.DB).select().from(evalRuns).orderBy(desc(evalRuns.createdAt), desc(evalRuns.id)).limit(query.limit);
    const body: EvalRunList = { object: "list", data: rows.map(view) };
    return c.json(body);
  });
