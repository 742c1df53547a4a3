/**
 * The usage API. `GET /v1/usage`: the caller's usage per day and model from the ledger, with the
 * limits that apply and today's remaining daily tokens. A bot key's `user` narrows it to that end
 * user (who sees only their own rows); without `user` a bot key sees the whole key. `GET
 * /admin/usage` (admin role): across keys, optionally one `key_id`. Both take `start_date` and
 * `end_date` (YYYY-MM-DD, UTC, inclusive; default today).
 *
 * Stateless completions reach the ledger in batches from each key's limiter (at most
 * USAGE_FLUSH_INTERVAL_MS late). A read of one key's usage first has that key's limiter write what
 * it holds, so a caller always sees its own completed requests; `/admin/usage` across all keys
 * reads the ledger as it is.
 */
import { Hono } from "hono";
import type { AdminUsageReport, ScopeLimits, UsageCounts, UsageReport } from "../../wire/usage.js";
import type { AppEnv } from "../app-env.js";
import { requireRole } from "../auth/middleware.js";
import { readUsage, type LedgerCounts } from "../db/usage-store.js";
import { usageDay } from "../db/turn-store.js";
import { invalidRequest } from "../errors.js";
import { parseWith } from "../http/json-body.js";
import { flushKeyUsage } from "../limits/client.js";
import { effectiveLimits, limitsToBody } from "../limits/config.js";
import { AdminUsageQuery, resolveDateRange, UsageQuery } from "./usage-query.js";

/** Rows one caller can have in a range: days × models; far above any real deployment's models. */
const CALLER_ROW_LIMIT = 50_000;

/** Ledger counts as the usage APIs (and the dashboard summary) show them. */
export function usageCountsOf(c: LedgerCounts): UsageCounts {
  return {
    requests: c.requests,
    prompt_tokens: c.promptTokens,
    completion_tokens: c.completionTokens,
    total_tokens: c.promptTokens + c.completionTokens,
    failures: c.failures,
  };
}

function dateRange(query: { start_date?: string | undefined; end_date?: string | undefined }, today: string) {
  const range = resolveDateRange({
    ...(query.start_date === undefined ? {} : { startDate: query.start_date }),
    ...(query.end_date === undefined ? {} : { endDate: query.end_date }),
    today,
  });
  if (!range.ok) throw invalidRequest(range.message, range.param, "invalid_value");
  return range;
}

export const usageRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const query = parseWith(UsageQuery, c.req.query());
  const today = usageDay(Date.now());
  const { startDay, endDay } = dateRange(query, today);
  const caller = c.var.caller;
  // Only bot keys act for end users; for other roles `user` is a label and the ledger has one row set.
  // A public-demo visitor sees only its own usage, whatever `user` says.
  const endUser = caller.endUser ?? (caller.role === "bot" ? (query.user ?? null) : null);
  await flushKeyUsage(c.env, caller.keyId);
  const read = await readUsage(c.env.DB, {
    filter: { keyId: caller.keyId, endUser, startDay, endDay },
    limit: CALLER_ROW_LIMIT,
    tokensOnDay: today,
  });
  const limits = limitsToBody(effectiveLimits(c.env, caller.limits));
  const { end_user: endUserLimits, ...keyLimits } = limits;
  const scopeLimits: ScopeLimits = endUser === null ? keyLimits : endUserLimits;
  const body: UsageReport = {
    object: "usage",
    user: endUser,
    start_date: startDay,
    end_date: endDay,
    totals: usageCountsOf(read.totals),
    today: {
      tokens_used: read.tokensOnDay,
      tokens_remaining: scopeLimits.tokens_per_day === null ? null : Math.max(0, scopeLimits.tokens_per_day - read.tokensOnDay),
    },
    limits: caller.role === "bot" && endUser === null ? { ...keyLimits, end_user: endUserLimits } : scopeLimits,
    data: read.rows.map((r) => ({ date: r.day, model: r.model, ...usageCountsOf(r) })),
  };
  return c.json(body);
});

export const adminUsageRoutes = new Hono<AppEnv>().use(requireRole("admin")).get("/", async (c) => {
  const query = parseWith(AdminUsageQuery, c.req.query());
  const { startDay, endDay } = dateRange(query, usageDay(Date.now()));
  if (query.key_id !== undefined) await flushKeyUsage(c.env, query.key_id);
  const read = await readUsage(c.env.DB, {
    filter: { keyId: query.key_id ?? null, endUser: null, startDay, endDay },
    limit: query.limit,
    tokensOnDay: endDay,
  });
  const body: AdminUsageReport = {
    object: "usage",
    key_id: query.key_id ?? null,
    start_date: startDay,
    end_date: endDay,
    totals: usageCountsOf(read.totals),
    data: read.rows.map((r) => ({ key_id: r.keyId, key_name: r.keyName, date: r.day, model: r.model, ...usageCountsOf(r) })),
    has_more: read.hasMore,
  };
  return c.json(body);
});
