/**
 * The usage API (`GET /v1/usage` for the caller, `GET /admin/usage` across keys): what the gateway
 * returns, as zod schemas so clients (the bot's /usage, tests) can validate it. Numbers come from
 * the usage ledger in D1 (per key, end user, model and UTC day), i.e. settled usage: requests
 * still running are not in it yet.
 */
import { z } from "zod";

/** A UTC calendar day, `YYYY-MM-DD`. */
export const UsageDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const UsageCounts = z.object({
  requests: z.number().int(),
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  /** prompt_tokens + completion_tokens. */
  total_tokens: z.number().int(),
  /** Requests that produced no complete answer (every worker failed). */
  failures: z.number().int(),
});
export type UsageCounts = z.infer<typeof UsageCounts>;

/** One day and model. */
export const UsageRow = UsageCounts.extend({ date: UsageDate, model: z.string() });
export type UsageRow = z.infer<typeof UsageRow>;

/** One scope's limits as enforced; null = unlimited. */
export const ScopeLimits = z.object({
  requests_per_minute: z.number().int().nullable(),
  tokens_per_minute: z.number().int().nullable(),
  max_concurrent: z.number().int().nullable(),
  tokens_per_day: z.number().int().nullable(),
});
export type ScopeLimits = z.infer<typeof ScopeLimits>;

/** `GET /v1/usage`: the caller's usage (a bot key's end user: only theirs) and the limits that apply. */
export const UsageReport = z.object({
  object: z.literal("usage"),
  /** The end user the report is about (bot keys with `user`), null for the whole key. */
  user: z.string().nullable(),
  start_date: UsageDate,
  end_date: UsageDate,
  totals: UsageCounts,
  /** Today (UTC) against the daily token quota of this scope; remaining is null when unlimited. */
  today: z.object({ tokens_used: z.number().int(), tokens_remaining: z.number().int().nullable() }),
  /**
   * Limits of this scope: the end user's for a bot key's `user`, else the key's. For a bot key
   * without `user`, `end_user` gives the limits each of its end users gets.
   */
  limits: ScopeLimits.extend({ end_user: ScopeLimits.optional() }),
  /** Per day and model, oldest first. */
  data: z.array(UsageRow),
});
export type UsageReport = z.infer<typeof UsageReport>;

/** key_name: the key's current name (null for the bootstrap admin key, which has no row). */
export const AdminUsageRow = UsageRow.extend({ key_id: z.string(), key_name: z.string().nullable() });
export type AdminUsageRow = z.infer<typeof AdminUsageRow>;

/** `GET /admin/usage`: usage across keys (or one key), per key, day and model. */
export const AdminUsageReport = z.object({
  object: z.literal("usage"),
  key_id: z.string().nullable(),
  start_date: UsageDate,
  end_date: UsageDate,
  totals: UsageCounts,
  /** Per key, day and model, oldest day first; at most a page of rows (see has_more). */
  data: z.array(AdminUsageRow),
  /** True when rows were left out; narrow the dates or filter by key_id. */
  has_more: z.boolean(),
});
export type AdminUsageReport = z.infer<typeof AdminUsageReport>;
