/**
 * The operator dashboard's data (admin role): `GET /admin/dashboard/history?range=hour|day` —
 * traffic per minute (or per 5 minutes over a day) from the metrics object's stored minutes plus
 * the ones it has not written yet; `GET /admin/dashboard/summary` — the pool's replica
 * recommendation, usage and top consumers, feedback counts, the latest eval run and the arena's
 * top rows. Shapes: wire/dashboard.ts.
 */
import { Hono } from "hono";
import { DashboardHistoryQuery, type DashboardHistory, type DashboardSummary, type UsageWindow } from "../../wire/dashboard.js";
import type { AppEnv } from "../app-env.js";
import { currentLeaderboard } from "../arena/leaderboard-store.js";
import { requireRole } from "../auth/middleware.js";
import { countFeedback } from "../db/feedback-store.js";
import { readMinutes } from "../db/metrics-minutes-store.js";
import { usageDay } from "../db/turn-store.js";
import { readTopConsumers } from "../db/usage-store.js";
import type { Env } from "../env.js";
import { parseWith } from "../http/json-body.js";
import { getHistoryConfig } from "../metrics/history-config.js";
import { metricsStub } from "../metrics/metrics-do.js";
import { historyView, rangeBounds, unionMinutes } from "../metrics/minute-history.js";
import { poolStub } from "../pool/pool-do.js";
import { modelJson } from "./admin-pool.js";
import { usageCountsOf } from "./usage.js";

/** Rows in each top-consumers list. */
const TOP_CONSUMERS = 10;
/** Rows of the arena leaderboard in the summary. */
const ARENA_TOP_ROWS = 5;
const DAY_MS = 86_400_000;
/** The summary's `week` window: today and the six UTC days before it. */
const WEEK_DAYS = 7;

async function usageWindow(env: Env, startDay: string, endDay: string): Promise<UsageWindow> {
  const top = await readTopConsumers(env.DB, { startDay, endDay, limit: TOP_CONSUMERS });
  return {
    start_date: startDay,
    end_date: endDay,
    totals: usageCountsOf(top.totals),
    top_keys: top.keys.map((row) => ({ key_id: row.keyId, key_name: row.keyName, ...usageCountsOf(row) })),
    top_end_users: top.endUsers.map((row) => ({ key_id: row.keyId, key_name: row.keyName, user: row.endUser, ...usageCountsOf(row) })),
    active_keys: top.activeKeys,
    active_end_users: top.activeEndUsers,
  };
}

async function arenaAndEval(env: Env, now: number): Promise<Pick<DashboardSummary, "arena" | "eval">> {
  const board = await currentLeaderboard(env, now);
  return {
    eval: board.judge,
    arena:
      board.votes_counted === 0
        ? null
        : {
            computed_at: board.computed_at,
            votes_counted: board.votes_counted,
            top: board.models.slice(0, ARENA_TOP_ROWS).map((row) => ({
              model: row.model,
              rank: row.rank,
              rating: row.rating,
              rating_low: row.rating_low,
              rating_high: row.rating_high,
              battles: row.battles,
            })),
          },
  };
}

export const adminDashboardRoutes = new Hono<AppEnv>()
  .use(requireRole("admin"))
  .get("/history", async (c) => {
    const { range } = parseWith(DashboardHistoryQuery, c.req.query());
    const now = Date.now();
    const { start, end } = rangeBounds(range, now);
    const [stored, pending] = await Promise.all([readMinutes(c.env.DB, { from: start, to: end }), metricsStub(c.env).pendingMinutes()]);
    const view = historyView({ minutes: unionMinutes(stored, pending), range, now });
    const body: DashboardHistory = {
      object: "dashboard.history",
      range,
      bucket_seconds: view.bucketSeconds,
      start: view.start,
      end: view.end,
      buckets: view.buckets,
      models: view.models,
      retention_days: getHistoryConfig(c.env).retentionDays,
    };
    return c.json(body);
  })
  .get("/summary", async (c) => {
    const now = Date.now();
    const today = usageDay(now);
    const [snapshot, todayUsage, weekUsage, feedback, results] = await Promise.all([
      poolStub(c.env).snapshot(),
      usageWindow(c.env, today, today),
      usageWindow(c.env, usageDay(now - (WEEK_DAYS - 1) * DAY_MS), today),
      countFeedback(c.env.DB, now - DAY_MS),
      arenaAndEval(c.env, now),
    ]);
    const body: DashboardSummary = {
      object: "dashboard.summary",
      generated_at_ms: now,
      models: snapshot.replicas.map(modelJson),
      usage: { today: todayUsage, week: weekUsage },
      feedback: { total: feedback.total, last_day: feedback.recent },
      ...results,
    };
    return c.json(body);
  });
