/**
 * How long the dashboard's per-minute history is kept, from the Worker's vars (default 7 days:
 * at one row a minute that is about 10,000 rows, a few MB of D1).
 */
import { z } from "zod";
import type { Env } from "../env.js";
import { intVar, oncePerEnv, parseVars } from "../vars.js";

const HistoryVars = z.object({
  /** Days of per-minute traffic history kept in D1 (at least 1: the dashboard's day range needs 24 hours). */
  DASHBOARD_HISTORY_RETENTION_DAYS: intVar(7, 1),
});

export interface HistoryConfig {
  retentionDays: number;
}

/** Parsed once per env object; throws a readable error for a malformed value. */
export const getHistoryConfig = oncePerEnv((env: Pick<Env, "DASHBOARD_HISTORY_RETENTION_DAYS">): HistoryConfig => {
  const v = parseVars(HistoryVars, env, "dashboard history configuration");
  return { retentionDays: v.DASHBOARD_HISTORY_RETENTION_DAYS };
});
