/**
 * RateLimiter: one Durable Object per API key ("key:<id>") and one per key + end user
 * ("key:<id>:user:<user>"). A Durable Object runs one event at a time and admit() decides and
 * records without awaiting in between, so with limit L and N > L simultaneous requests exactly L
 * are admitted. State lives in the object's SQLite storage (an eviction does not reset a quota)
 * with a hot in-memory copy; an alarm expires leases of requests that never settled.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import type { Env } from "../env.js";
import { Ledger, type Change } from "./ledger.js";
import type { AdmitInput, AdmitResult, Limits, SettleInput, SettleResult, UsageSnapshot } from "./types.js";
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

const NonNegativeInt = z.number().int().min(0);
const LimitValue = NonNegativeInt.nullable();
const LimitsSchema = z.object({ requestsPerMinute: LimitValue, tokensPerMinute: LimitValue, maxConcurrent: LimitValue, tokensPerDay: LimitValue });
const AdmitInputSchema = z.object({
  requestId: z.string().max(200),
  estimatedTokens: NonNegativeInt,
  limits: LimitsSchema,
  leaseTtlMs: z.number().int().min(1),
  now: z.number().optional(),
});
const PeekInputSchema = z.object({ limits: LimitsSchema, now: z.number().optional() });
const SettleInputSchema = z.object({ leaseId: z.string(), actualTokens: NonNegativeInt, now: z.number().optional() });

/** The rate limiter Durable Object; call it through RPC (see client.ts). */
export class RateLimiter extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly ledger: Ledger;
  /** The alarm time we last set, so admissions only touch the alarm when an earlier one is needed. */
  private alarmAtMs: number | null = null;

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
  }

  /** Reserves one request, the estimated tokens and a concurrency lease — or rejects, consuming nothing. */
  async admit(input: AdmitInput): Promise<AdmitResult> {
    const valid = AdmitInputSchema.parse(input);
    const result = this.ledger.admit({
      requestId: valid.requestId,
      estimatedTokens: valid.estimatedTokens,
      limits: valid.limits,
      leaseTtlMs: valid.leaseTtlMs,
      nowMs: valid.now ?? Date.now(),
      leaseId: crypto.randomUUID(),
    });
    this.persist();
    if (result.ok) await this.scheduleAlarm();
    return result;
  }

  /** The x-ratelimit-* view of this scope for responses that admit nothing; changes nothing. */
  async peek(input: { limits: Limits; now?: number }): Promise<UsageSnapshot> {
    const valid = PeekInputSchema.parse(input);
    // Never behind the ledger's own clock, which only admissions and settlements advance.
    const nowMs = Math.max(valid.now ?? Date.now(), this.ledger.lastNowMs);
    return usageSnapshot({ view: this.ledger, limits: valid.limits, nowMs });
  }

  /** Replaces the lease's reservation with real usage and frees its slot. Idempotent. */
  async settle(input: SettleInput): Promise<SettleResult> {
    const valid = SettleInputSchema.parse(input);
    const result = this.ledger.settle({ leaseId: valid.leaseId, actualTokens: valid.actualTokens, nowMs: valid.now ?? Date.now() });
    this.persist();
    return result;
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
    this.ledger.housekeep(this.ledger.clock(Date.now()));
    this.persist();
    await this.scheduleAlarm();
  }

  private async scheduleAlarm(): Promise<void> {
    const next = nextLeaseExpiryMs(this.ledger);
    if (next === null || (this.alarmAtMs !== null && this.alarmAtMs <= next)) return;
    this.alarmAtMs = next;
    await this.ctx.storage.setAlarm(next);
  }

  /** Writes the ledger's changed rows; runs in the same synchronous turn as the decision. */
  private persist(): void {
    const changes: Change[] = this.ledger.drainChanges();
    let metaChanged = false;
    for (const change of changes) {
      if (change.op === "meta") metaChanged = true;
      else if (change.op === "delete") this.sql.exec("DELETE FROM reservation WHERE lease_id = ?", change.leaseId);
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
