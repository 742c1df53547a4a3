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

const LedgerRow = Counts.extend({ keyId: z.string(), day: z.string(), model: z.string() });
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
        `SELECT key_id AS keyId, day, model, ${SUMS} FROM usage_daily WHERE ${range.sql}
         GROUP BY key_id, day, model ORDER BY day, key_id, model LIMIT ?`,
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
