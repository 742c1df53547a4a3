/**
 * Pure parsing of the usage API's query: the date range (UTC days, inclusive, defaulting to today)
 * and the filters. No I/O; tested by tables in test/worker/usage-query.test.ts.
 */
import { z } from "zod";

/** Widest range one request may ask for, in days (inclusive). */
export const MAX_USAGE_RANGE_DAYS = 366;
/** Rows per admin page unless `limit` says otherwise, and the most it may say. */
export const ADMIN_USAGE_DEFAULT_LIMIT = 1_000;
export const ADMIN_USAGE_MAX_LIMIT = 10_000;

const MS_PER_DAY = 86_400_000;

function dayNumber(day: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return null;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(y, m - 1, d);
  // Date.UTC rolls 2025-02-30 over to March: only a round trip proves the date is real.
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== day) return null;
  return ms / MS_PER_DAY;
}

const DateParam = z.string().refine((s) => dayNumber(s) !== null, "must be a date as YYYY-MM-DD (UTC)");

export const UsageQuery = z
  .object({
    start_date: DateParam.optional(),
    end_date: DateParam.optional(),
    /** A bot key's end user; for other roles only a label, as everywhere else. */
    user: z.string().min(1).max(256).optional(),
  })
  .strict();

export const AdminUsageQuery = z
  .object({
    start_date: DateParam.optional(),
    end_date: DateParam.optional(),
    key_id: z.string().min(1).max(128).optional(),
    limit: z.coerce.number().int().min(1).max(ADMIN_USAGE_MAX_LIMIT).default(ADMIN_USAGE_DEFAULT_LIMIT),
  })
  .strict();

export type DateRange = { ok: true; startDay: string; endDay: string } | { ok: false; message: string; param: string };

/**
 * The inclusive range of a query: neither date → today; only start_date → from it to today (or
 * just that day if it is in the future); only end_date → that day. Both given must be ordered and
 * span at most MAX_USAGE_RANGE_DAYS.
 */
export function resolveDateRange(input: { startDate?: string; endDate?: string; today: string }): DateRange {
  const { startDate, endDate, today } = input;
  // Check what was given before deriving defaults from it, so the message names the right parameter.
  if (startDate !== undefined && dayNumber(startDate) === null) return { ok: false, message: "start_date must be a date as YYYY-MM-DD (UTC).", param: "start_date" };
  if (endDate !== undefined && dayNumber(endDate) === null) return { ok: false, message: "end_date must be a date as YYYY-MM-DD (UTC).", param: "end_date" };
  const endDay = endDate ?? (startDate !== undefined && startDate > today ? startDate : today);
  const startDay = startDate ?? endDay;
  const start = dayNumber(startDay);
  const end = dayNumber(endDay);
  if (start === null || end === null) return { ok: false, message: "today is not a date", param: "end_date" };
  if (start > end) return { ok: false, message: `start_date (${startDay}) is after end_date (${endDay}).`, param: "start_date" };
  if (end - start + 1 > MAX_USAGE_RANGE_DAYS) {
    return { ok: false, message: `The range may span at most ${MAX_USAGE_RANGE_DAYS} days; narrow start_date and end_date.`, param: "start_date" };
  }
  return { ok: true, startDay, endDay };
}
