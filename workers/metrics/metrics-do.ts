/**
 * GatewayMetrics: one Durable Object per deployment that sums the counters every gateway isolate
 * flushes (at most about once a second per isolate, see recorder.ts), serves their totals to
 * GET /metrics, and keeps the dashboard's per-minute history.
 *
 * Totals live in memory and in one row of the object's SQLite storage. Flushes only mark them
 * dirty and set an alarm that writes them within PERSIST_INTERVAL_MS, so a busy gateway costs one
 * row write per interval rather than one per isolate flush. A read persists before it answers, so
 * every value a scraper has seen is on disk: after a restart the counters resume from at least
 * what Prometheus last saw and never appear to go backwards (which it would take for a reset and
 * overcount). What a crash can lose is the counts flushed since the last write and never scraped:
 * at most PERSIST_INTERVAL_MS of traffic, an undercount.
 *
 * History: each flush is also added to the minute it arrived in (minute-history.ts). Open minutes
 * are persisted with the totals; once a minute has closed, the alarm writes it to D1
 * (`metrics_minutes`, one row per minute) and prunes rows past the retention. A failed D1 write
 * keeps the minutes here and retries, so D1 sees at most one write batch per minute, never one
 * per request.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { writeMinutes } from "../db/metrics-minutes-store.js";
import { getHistoryConfig } from "./history-config.js";
import { addFlushInto, closedMinuteStarts, MINUTE_MS, minuteStart, retentionCutoff, type MinuteTotals } from "./minute-history.js";
import { emptyTotals, mergeTotalsInto, parseStoredTotals, Totals } from "./totals.js";

/** Longest time flushed counts stay only in memory. */
export const PERSIST_INTERVAL_MS = 5_000;
/**
 * The alarm that writes a minute is set this long after the minute ends, so an alarm that fires
 * a little early still finds it closed. (A minute is complete once it has ended: a flush is filed
 * under the minute it arrives in, never an earlier one.)
 */
export const MINUTE_WRITE_DELAY_MS = 1_000;
/** Wait before retrying a failed history write to D1. */
export const HISTORY_RETRY_MS = 10_000;

const TOTALS_ROW_ID = "totals";

export class GatewayMetrics extends DurableObject<Env> {
  private totals: Totals = emptyTotals();
  /** Minutes not yet written to D1, by start (Unix ms). */
  private minutes = new Map<number, Totals>();
  private dirtyMinutes = new Set<number>();
  private dirty = false;
  /** When the scheduled alarm fires (Unix ms), null when none is set. */
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS totals (id TEXT PRIMARY KEY, body TEXT NOT NULL)");
      this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS minutes (start INTEGER PRIMARY KEY, body TEXT NOT NULL)");
      const rows = this.ctx.storage.sql.exec<{ body: string }>("SELECT body FROM totals WHERE id = ?", TOTALS_ROW_ID).toArray();
      const stored = rows[0];
      if (stored) {
        const parsed = parseStoredTotals(stored.body);
        if (parsed) this.totals = parsed;
        else console.error("metrics: stored totals unreadable; counters restart from zero");
      }
      for (const row of this.ctx.storage.sql.exec<{ start: number; body: string }>("SELECT start, body FROM minutes")) {
        const parsed = parseStoredTotals(row.body);
        if (parsed) this.minutes.set(row.start, parsed);
        else console.error(`metrics: stored minute ${row.start} unreadable; left out of the history`);
      }
      this.alarmAt = await this.ctx.storage.getAlarm();
      // Minutes left by an earlier instance still need their alarm to reach D1.
      if (this.minutes.size > 0 && this.alarmAt === null) await this.scheduleAlarm(Date.now() + PERSIST_INTERVAL_MS);
    });
  }

  /**
   * Adds one isolate's buffered counts. A malformed delta (a bug, never a transient failure) is
   * dropped and reported as false, so the sender does not keep retrying it.
   */
  async add(delta: Totals): Promise<boolean> {
    if (!this.merge(delta)) return false;
    await this.scheduleAlarm(Date.now() + PERSIST_INTERVAL_MS);
    return true;
  }

  /** The totals, after adding the caller's own buffered counts (if any); persisted before they are returned. */
  read(delta: Totals | null = null): Totals {
    if (delta) this.merge(delta);
    this.persist();
    return this.totals;
  }

  /** Minutes not yet in D1 (the open one, and closed ones whose write is pending), oldest first. */
  pendingMinutes(): MinuteTotals[] {
    return [...this.minutes.entries()].sort(([a], [b]) => a - b).map(([start, totals]) => ({ start, totals }));
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    this.persist();
    const now = Date.now();
    const written = await this.writeHistory(now);
    if (!written) await this.scheduleAlarm(now + HISTORY_RETRY_MS);
    else if (this.minutes.size > 0) await this.scheduleAlarm(minuteStart(now) + MINUTE_MS + MINUTE_WRITE_DELAY_MS);
  }

  /**
   * Writes every minute closed by `now` to D1, prunes rows past the retention, and forgets the
   * written minutes here; false when D1 failed (they stay for a retry). The alarm calls it.
   */
  async writeHistory(now: number): Promise<boolean> {
    const closed = closedMinuteStarts(this.minutes.keys(), now);
    if (closed.length === 0) return true;
    const minutes = closed.map((start) => ({ start, totals: this.minutes.get(start)! }));
    try {
      await writeMinutes(this.env.DB, { minutes, deleteBefore: retentionCutoff(now, getHistoryConfig(this.env).retentionDays) });
    } catch (err) {
      console.error("metrics: could not write history minutes to D1; retrying", err instanceof Error ? err.message : err);
      return false;
    }
    for (const start of closed) {
      this.minutes.delete(start);
      this.dirtyMinutes.delete(start);
      this.ctx.storage.sql.exec("DELETE FROM minutes WHERE start = ?", start);
    }
    return true;
  }

  /** Makes sure an alarm fires by `at` (an earlier one already set is kept). */
  private async scheduleAlarm(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  private merge(delta: Totals): boolean {
    const parsed = Totals.safeParse(delta);
    if (!parsed.success) {
      console.error("metrics: dropping a malformed flush", parsed.error.issues[0]?.message);
      return false;
    }
    mergeTotalsInto(this.totals, parsed.data);
    this.dirtyMinutes.add(addFlushInto(this.minutes, Date.now(), parsed.data));
    this.dirty = true;
    return true;
  }

  private persist(): void {
    if (!this.dirty) return;
    this.ctx.storage.sql.exec(
      "INSERT INTO totals (id, body) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body",
      TOTALS_ROW_ID,
      JSON.stringify(this.totals),
    );
    for (const start of this.dirtyMinutes) {
      const totals = this.minutes.get(start);
      if (!totals) continue;
      this.ctx.storage.sql.exec(
        "INSERT INTO minutes (start, body) VALUES (?, ?) ON CONFLICT(start) DO UPDATE SET body = excluded.body",
        start,
        JSON.stringify(totals),
      );
    }
    this.dirtyMinutes.clear();
    this.dirty = false;
  }
}

/** The deployment's one metrics object. */
export const METRICS_OBJECT_NAME = "default";

/** A stub for the deployment's metrics object. */
export function metricsStub(env: Pick<Env, "METRICS">): DurableObjectStub<GatewayMetrics> {
  return env.METRICS.get(env.METRICS.idFromName(METRICS_OBJECT_NAME));
}
