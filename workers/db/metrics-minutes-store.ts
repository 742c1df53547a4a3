/**
 * The dashboard's per-minute traffic history in D1 (`metrics_minutes`). Only the GatewayMetrics
 * object writes it, once per closed minute, so no request ever writes here.
 */
import { parseStoredTotals } from "../metrics/totals.js";
import type { MinuteTotals } from "../metrics/minute-history.js";

/**
 * Stores closed minutes and deletes those that started before `deleteBefore`, in one transaction.
 * A minute's row is replaced, not added to: a minute is complete when written (flushes are filed
 * under the minute they arrive in), so writing it again after a lost answer changes nothing.
 */
export async function writeMinutes(db: D1Database, input: { minutes: readonly MinuteTotals[]; deleteBefore: number }): Promise<void> {
  const upsert = db.prepare(
    "INSERT INTO metrics_minutes (minute_start, totals) VALUES (?1, ?2) ON CONFLICT (minute_start) DO UPDATE SET totals = excluded.totals",
  );
  await db.batch([
    ...input.minutes.map((minute) => upsert.bind(minute.start, JSON.stringify(minute.totals))),
    db.prepare("DELETE FROM metrics_minutes WHERE minute_start < ?1").bind(input.deleteBefore),
  ]);
}

/** Stored minutes starting in [from, to) (Unix ms), oldest first; an unreadable row is skipped and reported. */
export async function readMinutes(db: D1Database, range: { from: number; to: number }): Promise<MinuteTotals[]> {
  const { results } = await db
    .prepare("SELECT minute_start AS start, totals FROM metrics_minutes WHERE minute_start >= ?1 AND minute_start < ?2 ORDER BY minute_start")
    .bind(range.from, range.to)
    .all<{ start: number; totals: string }>();
  const minutes: MinuteTotals[] = [];
  for (const row of results) {
    const totals = parseStoredTotals(row.totals);
    if (totals) minutes.push({ start: row.start, totals });
    else console.error(`metrics history: minute ${row.start} is unreadable; left out`);
  }
  return minutes;
}
