/**
 * The limiter's hot in-memory state and its transitions (admit, settle, release, expire). No I/O:
 * every transition records the rows it changed so the Durable Object can write them through to
 * SQLite (in the commit turn shared by the calls that arrived together), keeping each transition
 * atomic, and durable before its call is answered.
 */
import {
  decideAdmission,
  expiredLeases,
  prunable,
  settleCharge,
  usageSnapshot,
  utcDay,
  WINDOW_MS,
  type LedgerView,
  type Reservation,
} from "./window-math.js";
import type { AdmitResult, Limits, SettleResult } from "./types.js";

export type Change =
  | { op: "put"; reservation: Reservation }
  | { op: "delete"; leaseId: string }
  /** Delete every stored row out of the window and not active: the rows pruned from memory since the last sweep. */
  | { op: "sweep"; admittedUpToMs: number }
  | { op: "meta" };

/**
 * Rows pruned from memory before they are deleted from storage in one statement. Until then they
 * stay stored, harmlessly: rows out of the window are pruned again on load. One delete per pruned
 * row was one of the limiter's six SQL statements per request.
 */
export const SWEEP_EVERY_ROWS = 64;

export interface LedgerState {
  reservations: Reservation[];
  day: number;
  dayTokens: number;
  /** Latest clock reading seen; the ledger's clock never runs backwards. */
  lastNowMs: number;
}

export class Ledger implements LedgerView {
  reservations: Reservation[];
  day: number;
  dayTokens: number;
  lastNowMs: number;
  /** The reservations in state `active` (see LedgerView.active). */
  readonly active = new Set<Reservation>();
  /** Sum of tokens over `reservations` (see LedgerView.logTokens); every transition keeps it. */
  logTokens = 0;
  private readonly byLease = new Map<string, Reservation>();
  private changes: Change[] = [];
  /** Rows pruned from memory and not yet swept from storage. */
  private unswept = 0;

  constructor(state: LedgerState) {
    this.reservations = [...state.reservations].sort((a, b) => a.admittedAtMs - b.admittedAtMs);
    this.day = state.day;
    this.dayTokens = state.dayTokens;
    this.lastNowMs = state.lastNowMs;
    for (const r of this.reservations) {
      this.byLease.set(r.leaseId, r);
      if (r.state === "active") this.active.add(r);
      this.logTokens += r.tokens;
    }
  }

  /** Monotonic clock: a reading behind the last one (skew between callers) counts as the last one. */
  clock(nowMs: number): number {
    if (nowMs > this.lastNowMs) {
      this.lastNowMs = nowMs;
      this.changes.push({ op: "meta" });
    }
    return this.lastNowMs;
  }

  /** Rows changed since the last call. */
  drainChanges(): Change[] {
    const out = this.changes;
    this.changes = [];
    return out;
  }

  /** Expires lapsed leases, drops reservations out of the window, and rolls the daily counter. */
  housekeep(nowMs: number): void {
    for (const r of expiredLeases(this, nowMs)) {
      // An expired lease keeps its estimate charged: the request may have run to the end.
      r.state = "expired";
      this.active.delete(r);
      this.changes.push({ op: "put", reservation: r });
    }
    const gone = prunable(this, nowMs);
    if (gone.length > 0) {
      // Prunable reservations all sit in the log's out-of-window prefix; only that part is filtered.
      const goneSet = new Set(gone);
      let prefixEnd = 0;
      while (prefixEnd < this.reservations.length && nowMs - this.reservations[prefixEnd]!.admittedAtMs >= WINDOW_MS) prefixEnd++;
      const keptPrefix = this.reservations.slice(0, prefixEnd).filter((r) => !goneSet.has(r));
      this.reservations.splice(0, prefixEnd, ...keptPrefix);
      for (const r of gone) {
        this.logTokens -= r.tokens;
        this.byLease.delete(r.leaseId);
      }
      this.unswept += gone.length;
      if (this.unswept >= SWEEP_EVERY_ROWS) this.sweep(nowMs);
    }
    const today = utcDay(nowMs);
    if (today !== this.day) {
      this.day = today;
      this.dayTokens = 0;
      this.changes.push({ op: "meta" });
    }
  }

  /** Records that storage may drop every row out of the window at `nowMs` (the alarm calls it too). */
  sweep(nowMs: number): void {
    this.unswept = 0;
    this.changes.push({ op: "sweep", admittedUpToMs: nowMs - WINDOW_MS });
  }

  /** Admits (reserving one request, the estimate and a lease) or rejects without consuming anything. */
  admit(input: { requestId: string; estimatedTokens: number; limits: Limits; leaseTtlMs: number; nowMs: number; leaseId: string }): AdmitResult {
    const nowMs = this.clock(input.nowMs);
    this.housekeep(nowMs);
    const decision = decideAdmission({ view: this, limits: input.limits, estimatedTokens: input.estimatedTokens, nowMs });
    if (!decision.ok) {
      return { ...decision, usage: usageSnapshot({ view: this, limits: input.limits, nowMs }) };
    }
    const reservation: Reservation = {
      leaseId: input.leaseId,
      requestId: input.requestId,
      admittedAtMs: nowMs,
      day: this.day,
      tokens: input.estimatedTokens,
      state: "active",
      expiresAtMs: nowMs + input.leaseTtlMs,
    };
    this.reservations.push(reservation);
    this.logTokens += reservation.tokens;
    this.active.add(reservation);
    this.byLease.set(reservation.leaseId, reservation);
    this.dayTokens += reservation.tokens;
    this.changes.push({ op: "put", reservation }, { op: "meta" });
    return { ok: true, leaseId: reservation.leaseId, usage: usageSnapshot({ view: this, limits: input.limits, nowMs }) };
  }

  /** Replaces an active lease's estimate with real usage and frees its slot; a no-op otherwise. */
  settle(input: { leaseId: string; actualTokens: number; nowMs: number }): SettleResult {
    const nowMs = this.clock(input.nowMs);
    this.housekeep(nowMs);
    const r = this.byLease.get(input.leaseId);
    if (!r || r.state !== "active") return { settled: false };
    const charge = settleCharge({ reservation: r, actualTokens: input.actualTokens, counterDay: this.day });
    this.dayTokens = Math.max(0, this.dayTokens + charge.dayDelta);
    this.logTokens += charge.tokens - r.tokens;
    r.tokens = charge.tokens;
    r.state = "settled";
    this.active.delete(r);
    this.changes.push({ op: "put", reservation: r }, { op: "meta" });
    return { settled: true };
  }

  /** Undoes an admission entirely (the other scope rejected the request): nothing stays consumed. */
  release(input: { leaseId: string; nowMs: number }): SettleResult {
    const nowMs = this.clock(input.nowMs);
    const r = this.byLease.get(input.leaseId);
    if (!r || r.state !== "active") return { settled: false };
    if (r.day === this.day) this.dayTokens = Math.max(0, this.dayTokens - r.tokens);
    this.reservations = this.reservations.filter((x) => x !== r);
    this.logTokens -= r.tokens;
    this.active.delete(r);
    this.byLease.delete(r.leaseId);
    this.changes.push({ op: "delete", leaseId: r.leaseId }, { op: "meta" });
    this.housekeep(nowMs);
    return { settled: true };
  }
}
