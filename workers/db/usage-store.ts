/**
 * Reads the usage ledger (`usage_daily`, written by turn-store.ts in the same batch as each reply):
 * rows per key, UTC day and model (end users summed, or one end user), the totals of the whole
 * filter, and one day's token total — all three in one D1 batch.
 */
import { z } from "zod";

export interface UsageFilter {
  /** One key, or null for every key (admin). */
  keyId: string | null;
  /** One end user of the key, or null for all of them ('' is the key acting for itself). */
  endUser: string | null;
  /** Inclusive UTC days, YYYY-MM-DD. */
  startDay: string;
  endDay: string;
}

const Counts = z.object({
  requests: z.coerce.number(),
  promptTokens: z.coerce.number(),
  completionTokens: z.coerce.number(),
  failures: z.coerce.number(),
});
export type LedgerCounts = z.infer<typeof Counts>;

/** keyName is null only for a key id with no row (the bootstrap admin key). */
const LedgerRow = Counts.extend({ keyId: z.string(), keyName: z.string().nullable(), day: z.string(), model: z.string() });
export type LedgerRow = z.infer<typeof LedgerRow>;

export interface UsageRead {
  rows: LedgerRow[];
  /** More rows matched than `limit`. */
  hasMore: boolean;
  totals: LedgerCounts;
  /** prompt + completion tokens on `tokensOnDay` within the key / end-user part of the filter. */
  tokensOnDay: number;
}

const SUMS = `COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(prompt_tokens), 0) AS promptTokens,
  COALESCE(SUM(completion_tokens), 0) AS completionTokens, COALESCE(SUM(failures), 0) AS failures`;

/** WHERE clause of fixed fragments with bound values only: no input ever becomes SQL text. */
function where(filter: Pick<UsageFilter, "keyId" | "endUser">, days: { from: string; to: string }): { sql: string; values: string[] } {
  const parts = ["day >= ?", "day <= ?"];
  const values = [days.from, days.to];
  if (filter.keyId !== null) {
    parts.push("key_id = ?");
    values.push(filter.keyId);
  }
  if (filter.endUser !== null) {
    parts.push("end_user = ?");
    values.push(filter.endUser);
  }
  return { sql: parts.join(" AND "), values };
}

/** Rows (at most `limit`), totals over the whole filter, and the token total of `tokensOnDay`. */
export async function readUsage(db: D1Database, input: { filter: UsageFilter; limit: number; tokensOnDay: string }): Promise<UsageRead> {
  const range = where(input.filter, { from: input.filter.startDay, to: input.filter.endDay });
  const day = where(input.filter, { from: input.tokensOnDay, to: input.tokensOnDay });
  const [rows, totals, onDay] = await db.batch([
    db
      .prepare(
        `SELECT key_id AS keyId, (SELECT name FROM api_keys WHERE id = key_id) AS keyName, day, model, ${SUMS}
         FROM usage_daily WHERE ${range.sql} GROUP BY key_id, day, model ORDER BY day, key_id, model LIMIT ?`,
      )
      .bind(...range.values, input.limit + 1),
    db.prepare(`SELECT ${SUMS} FROM usage_daily WHERE ${range.sql}`).bind(...range.values),
    db.prepare(`SELECT ${SUMS} FROM usage_daily WHERE ${day.sql}`).bind(...day.values),
  ]);
  const parsedRows = z.array(LedgerRow).parse(rows?.results ?? []);
  const parsedTotals = Counts.parse(totals?.results[0] ?? {});
  const dayTotals = Counts.parse(onDay?.results[0] ?? {});
  return {
    rows: parsedRows.slice(0, input.limit),
    hasMore: parsedRows.length > input.limit,
    totals: parsedTotals,
    tokensOnDay: dayTotals.promptTokens + dayTotals.completionTokens,
  };
}

const TopKeyRow = Counts.extend({ keyId: z.string(), keyName: z.string().nullable() });
const TopEndUserRow = TopKeyRow.extend({ endUser: z.string() });
const Activity = Counts.extend({ activeKeys: z.coerce.number(), activeEndUsers: z.coerce.number() });

export interface TopConsumers {
  totals: LedgerCounts;
  /** By prompt + completion tokens, most first. */
  keys: z.infer<typeof TopKeyRow>[];
  /** End users ('' excluded: that is the key itself), by tokens, most first. */
  endUsers: z.infer<typeof TopEndUserRow>[];
  activeKeys: number;
  activeEndUsers: number;
}

/** The heaviest keys and end users over inclusive UTC days, in one D1 batch. */
export async function readTopConsumers(db: D1Database, input: { startDay: string; endDay: string; limit: number }): Promise<TopConsumers> {
  const days = [input.startDay, input.endDay] as const;
  const tokens = "SUM(prompt_tokens) + SUM(completion_tokens)";
  const keyName = "(SELECT name FROM api_keys WHERE id = key_id) AS keyName";
  const [keys, endUsers, activity] = await db.batch([
    db
      .prepare(`SELECT key_id AS keyId, ${keyName}, ${SUMS} FROM usage_daily WHERE day >= ?1 AND day <= ?2 GROUP BY key_id ORDER BY ${tokens} DESC, key_id LIMIT ?3`)
      .bind(...days, input.limit),
    db
      .prepare(
        `SELECT key_id AS keyId, ${keyName}, end_user AS endUser, ${SUMS} FROM usage_daily WHERE day >= ?1 AND day <= ?2 AND end_user <> ''
         GROUP BY key_id, end_user ORDER BY ${tokens} DESC, key_id, end_user LIMIT ?3`,
      )
      .bind(...days, input.limit),
    db
      .prepare(
        `SELECT ${SUMS}, COUNT(DISTINCT key_id) AS activeKeys,
           COUNT(DISTINCT CASE WHEN end_user <> '' THEN key_id || char(0) || end_user END) AS activeEndUsers
         FROM usage_daily WHERE day >= ?1 AND day <= ?2`,
      )
      .bind(...days),
  ]);
  const { activeKeys, activeEndUsers, ...totals } = Activity.parse(activity?.results[0] ?? {});
  return {
    totals,
    keys: z.array(TopKeyRow).parse(keys?.results ?? []),
    endUsers: z.array(TopEndUserRow).parse(endUsers?.results ?? []),
    activeKeys,
    activeEndUsers,
  };
}
