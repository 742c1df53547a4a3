/**
 * GatewayMetrics: one Durable Object per deployment that sums the counters every gateway isolate
 * flushes (at most about once a second per isolate, see recorder.ts) and serves their totals to
 * GET /metrics.
 *
 * Totals live in memory and in one row of the object's SQLite storage. Flushes only mark them
 * dirty and set an alarm that writes them within PERSIST_INTERVAL_MS, so a busy gateway costs one
 * row write per interval rather than one per isolate flush. A read persists before it answers, so
 * every value a scraper has seen is on disk: after a restart the counters resume from at least
 * what Prometheus last saw and never appear to go backwards (which it would take for a reset and
 * overcount). What a crash can lose is the counts flushed since the last write and never scraped:
 * at most PERSIST_INTERVAL_MS of traffic, an undercount.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { emptyTotals, mergeTotalsInto, StoredTotals, Totals } from "./totals.js";

/** Longest time flushed counts stay only in memory. */
export const PERSIST_INTERVAL_MS = 5_000;

const TOTALS_ROW_ID = "totals";

export class GatewayMetrics extends DurableObject<Env> {
  private totals: Totals = emptyTotals();
  private dirty = false;
  private alarmSet = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS totals (id TEXT PRIMARY KEY, body TEXT NOT NULL)");
      const rows = this.ctx.storage.sql.exec<{ body: string }>("SELECT body FROM totals WHERE id = ?", TOTALS_ROW_ID).toArray();
      const stored = rows[0];
      if (stored) {
        const parsed = StoredTotals.safeParse(safeJson(stored.body));
        if (parsed.success) this.totals = parsed.data;
        else console.error("metrics: stored totals unreadable; counters restart from zero");
      }
      this.alarmSet = (await this.ctx.storage.getAlarm()) !== null;
    });
  }

  /**
   * Adds one isolate's buffered counts. A malformed delta (a bug, never a transient failure) is
   * dropped and reported as false, so the sender does not keep retrying it.
   */
  async add(delta: Totals): Promise<boolean> {
    if (!this.merge(delta)) return false;
    if (!this.alarmSet) {
      this.alarmSet = true;
      await this.ctx.storage.setAlarm(Date.now() + PERSIST_INTERVAL_MS);
    }
    return true;
  }

  /** The totals, after adding the caller's own buffered counts (if any); persisted before they are returned. */
  read(delta: Totals | null = null): Totals {
    if (delta) this.merge(delta);
    this.persist();
    return this.totals;
  }

  override async alarm(): Promise<void> {
    this.alarmSet = false;
    this.persist();
  }

  private merge(delta: Totals): boolean {
    const parsed = Totals.safeParse(delta);
    if (!parsed.success) {
      console.error("metrics: dropping a malformed flush", parsed.error.issues[0]?.message);
      return false;
    }
    mergeTotalsInto(this.totals, parsed.data);
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
    this.dirty = false;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The deployment's one metrics object. */
export const METRICS_OBJECT_NAME = "default";

/** A stub for the deployment's metrics object. */
export function metricsStub(env: Pick<Env, "METRICS">): DurableObjectStub<GatewayMetrics> {
  return env.METRICS.get(env.METRICS.idFromName(METRICS_OBJECT_NAME));
}
