/**
 * RateLimiter: one Durable Object per API key ("key:<id>") and one per key + end user
 * ("key:<id>:user:<user>"). A Durable Object runs one event at a time and admit() decides and
 * records in memory without awaiting in between, so with limit L and N > L simultaneous requests
 * exactly L are admitted. State lives in the object's SQLite storage (an eviction does not reset
 * a quota), written in a commit shared by the calls that arrive together and durable before any
 * of them is answered, with a hot in-memory copy; an alarm expires leases of requests that never
 * settled.
 *
 * The key's object also buffers the usage ledger of the key's stateless completions, reported
 * with their settlement, and writes it to D1 in batches (usage-buffer.ts): a completion then
 * costs no D1 write of its own. The RPC inputs come from the gateway's own code (client.ts) and
 * are typed, not parsed: this object is called on every request and parsing was a visible share
 * of its cost.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { applyUsageBatch } from "../db/usage-batches.js";
import type { Env } from "../env.js";
import { getLimitsConfig } from "./config.js";
import { Ledger, type Change } from "./ledger.js";
import type { AdmitInput, AdmitResult, Limits, SettleInput, SettleResult, UsageEntry, UsageSnapshot } from "./types.js";
import { UsageBuffer } from "./usage-buffer.js";
import { nextLeaseExpiryMs, usageSnapshot, type Reservation } from "./window-math.js";

const ReservationRow = z.object({
  lease_id: z.string(),
  request_id: z.string(),
  admitted_at_ms: z.number(),
  day: z.number(),
  tokens: z.number(),
  state: z.enum(["active", "settled", "expired"]),
  expires_at_ms: z.number(),
});

const MetaRow = z.object({ day: z.number(), day_tokens: z.number(), last_now_ms: z.number() });

/** After a failed write to D1, the buffer is sent again this much later. */
const USAGE_RETRY_MS = 2_000;

/** The rate limiter Durable Object; call it through RPC (see client.ts). */
export class RateLimiter extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly ledger: Ledger;
  /** The alarm time we last set, so admissions only touch the alarm when an earlier one is needed. */
  private alarmAtMs: number | null = null;
  private readonly usage: UsageBuffer;
  /** When the buffered usage is due in D1; null when nothing is buffered. */
  private usageDueAtMs: number | null;
  /** Usage entries decided but not yet written to the buffer table (see commit()). */
  private pendingUsage: UsageEntry[] = [];
  /** The next shared write of decided changes, if one is scheduled. */
  private committing: Promise<void> | null = null;
  /** The write to D1 in progress, which concurrent flushes wait for instead of repeating. */
  private flushing: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS reservation (
      lease_id TEXT PRIMARY KEY, request_id TEXT NOT NULL, admitted_at_ms INTEGER NOT NULL,
      day INTEGER NOT NULL, tokens INTEGER NOT NULL, state TEXT NOT NULL, expires_at_ms INTEGER NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS meta (
      id INTEGER PRIMARY KEY CHECK (id = 1), day INTEGER NOT NULL, day_tokens INTEGER NOT NULL, last_now_ms INTEGER NOT NULL)`);
    // SQLite storage is synchronous and local, so loading in the constructor needs no blockConcurrencyWhile.
    const meta = this.sql.exec("SELECT day, day_tokens, last_now_ms FROM meta WHERE id = 1").toArray()[0];
    const parsedMeta = meta === undefined ? { day: 0, day_tokens: 0, last_now_ms: 0 } : MetaRow.parse(meta);
    const reservations = this.sql
      .exec("SELECT * FROM reservation ORDER BY admitted_at_ms")
      .toArray()
      .map((row) => toReservation(ReservationRow.parse(row)));
    this.ledger = new Ledger({ reservations, day: parsedMeta.day, dayTokens: parsedMeta.day_tokens, lastNowMs: parsedMeta.last_now_ms });
    this.usage = new UsageBuffer(this.sql);
    // Usage left from before a restart is due now; the next call (or the alarm still set) sends it.
    this.usageDueAtMs = this.usage.isEmpty() ? null : Date.now();
  }

  /**
   * Reserves one request, the estimated tokens and a concurrency lease — or rejects, consuming
   * nothing. Settlements the gateway held back for this object (settle-batching.ts) come along and
   * are applied first, in the same turn and the same commit, so the slots they free count here.
   * The decision is made at once; the answer waits for the shared commit (see commit()).
   */
  async admit(input: AdmitInput & { settles?: SettleInput[] }): Promise<AdmitResult> {
    for (const settle of input.settles ?? []) this.applySettle(settle);
    const result = this.ledger.admit({
      requestId: input.requestId,
      estimatedTokens: input.estimatedTokens,
      limits: input.limits,
      leaseTtlMs: input.leaseTtlMs,
      nowMs: input.now ?? Date.now(),
      leaseId: crypto.randomUUID(),
    });
    await this.commit();
    await this.scheduleAlarm();
    return result;
  }

  /** The x-ratelimit-* view of this scope for responses that admit nothing; changes nothing. */
  async peek(input: { limits: Limits; now?: number }): Promise<UsageSnapshot> {
    // Never behind the ledger's own clock, which only admissions and settlements advance.
    const nowMs = Math.max(input.now ?? Date.now(), this.ledger.lastNowMs);
    return usageSnapshot({ view: this.ledger, limits: input.limits, nowMs });
  }

  /**
   * Replaces the lease's reservation with real usage and frees its slot. Idempotent: the usage
   * entry it carries is buffered only by the settlement that settles the lease.
   */
  async settle(input: SettleInput): Promise<SettleResult> {
    const result = this.applySettle(input);
    await this.commit();
    await this.scheduleAlarm();
    return result;
  }

  /** Several settlements in one turn and one commit (those no admission carried in time). */
  async settleMany(inputs: SettleInput[]): Promise<SettleResult[]> {
    const results = inputs.map((input) => this.applySettle(input));
    await this.commit();
    await this.scheduleAlarm();
    return results;
  }

  /** Buffers the usage of a request this key's limits did not admit (its limits are all unlimited). */
  async recordUsage(entry: UsageEntry): Promise<void> {
    await this.bufferUsage(entry);
  }

  /**
   * Writes every buffered entry to D1 now (before the usage API reads the ledger), after the
   * settlements the caller's isolate still held for this object, so a caller reads its own
   * finished requests.
   */
  async flushUsage(settles: SettleInput[] = []): Promise<void> {
    for (const settle of settles) this.applySettle(settle);
    // Entries decided but not yet committed go to the buffer table first (the same turn as this call).
    this.persist();
    while (!this.usage.isEmpty()) {
      this.flushing ??= this.sendNextBatch().finally(() => (this.flushing = null));
      await this.flushing;
    }
    this.usageDueAtMs = null;
  }

  /** Settles in memory and in the usage buffer, without awaiting: the caller persists. */
  private applySettle(input: SettleInput): SettleResult {
    const result = this.ledger.settle({ leaseId: input.leaseId, actualTokens: input.actualTokens, nowMs: input.now ?? Date.now() });
    if (result.settled && input.usage) this.addUsage(input.usage);
    return result;
  }

  private addUsage(entry: UsageEntry): void {
    this.pendingUsage.push(entry);
    if (this.usageDueAtMs === null) this.usageDueAtMs = Date.now() + getLimitsConfig(this.env).usageFlushIntervalMs;
  }

  private async bufferUsage(entry: UsageEntry): Promise<void> {
    this.addUsage(entry);
    await this.commit();
    await this.scheduleAlarm();
  }

  /**
   * Writes what calls decided since the last commit, in one timer turn shared by every call that
   * arrived meanwhile: each call's storage writes end in a commit, and the commit, not the
   * decision, is what a call costs. A call answers only after this turn's writes are durable (the
   * output gate holds every answer until then), so nothing is answered that a restart could lose.
   */
  private commit(): Promise<void> {
    this.committing ??= new Promise<void>((resolve) =>
      setTimeout(() => {
        this.committing = null;
        this.persist();
        resolve();
      }, 0),
    );
    return this.committing;
  }

  private async sendNextBatch(): Promise<void> {
    const batch = this.usage.nextBatch(crypto.randomUUID());
    if (!batch) return;
    await applyUsageBatch(this.env.DB, { ...batch, now: Date.now() });
    this.usage.confirm(batch.batchId);
  }

  /** Undoes an admission as if it never happened (used when the other scope rejected). Idempotent. */
  async release(input: { leaseId: string; now?: number }): Promise<SettleResult> {
    const result = this.ledger.release({ leaseId: input.leaseId, nowMs: input.now ?? Date.now() });
    this.persist();
    return result;
  }

  /** Expires lapsed leases (slot freed, estimate kept as charged) and re-arms for the next one. */
  override async alarm(): Promise<void> {
    this.alarmAtMs = null;
    const nowMs = this.ledger.clock(Date.now());
    this.ledger.housekeep(nowMs);
    this.ledger.sweep(nowMs);
    this.persist();
    if (this.usageDueAtMs !== null && this.usageDueAtMs <= Date.now()) {
      try {
        await this.flushUsage();
      } catch (err) {
        // Kept in the buffer (sealed batches are sent again as they were) and tried again soon.
        console.error("could not write buffered usage to D1", { error: String(err) });
        this.usageDueAtMs = Date.now() + USAGE_RETRY_MS;
      }
    }
    await this.scheduleAlarm();
  }

  private async scheduleAlarm(): Promise<void> {
    const leaseExpiry = nextLeaseExpiryMs(this.ledger);
    const next = leaseExpiry === null ? this.usageDueAtMs : this.usageDueAtMs === null ? leaseExpiry : Math.min(leaseExpiry, this.usageDueAtMs);
    if (next === null || (this.alarmAtMs !== null && this.alarmAtMs <= next)) return;
    this.alarmAtMs = next;
    await this.ctx.storage.setAlarm(next);
  }

  /** Writes the ledger's changed rows and the usage entries decided since the last write. */
  private persist(): void {
    for (const entry of this.pendingUsage.splice(0)) this.usage.add(entry);
    const changes: Change[] = this.ledger.drainChanges();
    let metaChanged = false;
    for (const change of changes) {
      if (change.op === "meta") metaChanged = true;
      else if (change.op === "delete") this.sql.exec("DELETE FROM reservation WHERE lease_id = ?", change.leaseId);
      else if (change.op === "sweep") this.sql.exec("DELETE FROM reservation WHERE admitted_at_ms <= ? AND state <> 'active'", change.admittedUpToMs);
      else {
        const r = change.reservation;
        this.sql.exec(
          `INSERT OR REPLACE INTO reservation (lease_id, request_id, admitted_at_ms, day, tokens, state, expires_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          r.leaseId, r.requestId, r.admittedAtMs, r.day, r.tokens, r.state, r.expiresAtMs,
        );
      }
    }
    if (metaChanged) {
      this.sql.exec(
        "INSERT OR REPLACE INTO meta (id, day, day_tokens, last_now_ms) VALUES (1, ?, ?, ?)",
        this.ledger.day, this.ledger.dayTokens, this.ledger.lastNowMs,
      );
    }
  }
}

function toReservation(row: z.infer<typeof ReservationRow>): Reservation {
  return {
    leaseId: row.lease_id,
    requestId: row.request_id,
    admittedAtMs: row.admitted_at_ms,
    day: row.day,
    tokens: row.tokens,
    state: row.state,
    expiresAtMs: row.expires_at_ms,
  };
}
