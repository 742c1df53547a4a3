/**
 * Pure limiter arithmetic: no I/O, no clock — every function takes `nowMs`.
 *
 * Per-minute limits use a sliding-window log: a reservation admitted at t counts during
 * [t, t + 60 s). Unlike a token bucket (which lets a full burst plus a full refill through inside
 * one minute), this holds "at most L in ANY 60 s window" exactly, and Retry-After is exact: the
 * moment enough old entries leave the window for this request to fit. Memory is one entry per
 * request of the last minute (plus in-flight leases).
 *
 * Tokens per day is a counter per UTC day; a reservation belongs to the day it was admitted.
 */
import type { Limits, LimitKind, Rejection, UsageSnapshot, UsageTrio } from "./types.js";

export const WINDOW_MS = 60_000;
export const DAY_MS = 86_400_000;
/**
 * Retry hint when only in-flight work blocks (a concurrency slot, or daily tokens still reserved
 * by running requests): those free when a request ends, which no state can foresee.
 */
export const IN_FLIGHT_RETRY_MS = 1_000;

export type ReservationState = "active" | "settled" | "expired";

/** One admitted request: its place in the minute window, its token charge and its lease. */
export interface Reservation {
  leaseId: string;
  requestId: string;
  admittedAtMs: number;
  /** UTC day number (ms / DAY_MS) of admission; the daily counter it was charged to. */
  day: number;
  /** Estimate while active; real usage once settled; the estimate stays when the lease expired. */
  tokens: number;
  state: ReservationState;
  expiresAtMs: number;
}

/**
 * What the decisions read. `reservations` is sorted by admittedAtMs, which the helpers below use
 * to find the minute window by binary search instead of scanning the whole log: a busy key holds
 * one entry per request of the last minute, tens of thousands at a few hundred requests/s.
 */
export interface LedgerView {
  reservations: readonly Reservation[];
  day: number;
  dayTokens: number;
  /**
   * The reservations whose state is `active`, when the holder keeps them apart (the Ledger does):
   * they are at most the running requests, so lease checks need not scan the log. Without it the
   * helpers scan `reservations`.
   */
  active?: ReadonlySet<Reservation>;
  /**
   * The sum of `tokens` over all of `reservations`, when the holder keeps it current (the Ledger
   * does): the window's sum is then this minus the few entries outside the window, instead of a
   * pass over the whole window.
   */
  logTokens?: number;
}

/** Index of the first reservation admitted after `t` (reservations sorted by admittedAtMs). */
function firstAdmittedAfter(reservations: readonly Reservation[], t: number): number {
  let lo = 0;
  let hi = reservations.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (reservations[mid]!.admittedAtMs > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Index where the minute window at nowMs starts: every earlier reservation has left it. */
function windowStartIndex(view: LedgerView, nowMs: number): number {
  return firstAdmittedAfter(view.reservations, nowMs - WINDOW_MS);
}

function activeOf(view: LedgerView): Iterable<Reservation> {
  return view.active ?? view.reservations.filter((r) => r.state === "active");
}

export function utcDay(nowMs: number): number {
  return Math.floor(nowMs / DAY_MS);
}

export function msUntilNextUtcDay(nowMs: number): number {
  return (utcDay(nowMs) + 1) * DAY_MS - nowMs;
}

/** Tokens charged to today (0 when the stored counter belongs to an earlier day). */
export function tokensToday(view: LedgerView, nowMs: number): number {
  return view.day === utcDay(nowMs) ? view.dayTokens : 0;
}

/**
 * The reservations inside the minute window at nowMs, oldest first, as a range of the log rather
 * than a copy: decisions run on every request and the window can hold tens of thousands.
 */
interface WindowRange {
  log: readonly Reservation[];
  start: number;
  end: number;
  logTokens: number | undefined;
}

function windowRange(view: LedgerView, nowMs: number): WindowRange {
  return { log: view.reservations, start: windowStartIndex(view, nowMs), end: firstAdmittedAfter(view.reservations, nowMs), logTokens: view.logTokens };
}

function rangeLength(w: WindowRange): number {
  return w.end - w.start;
}

/** Leases still holding a concurrency slot. */
export function activeLeases(view: LedgerView, nowMs: number): Reservation[] {
  const out: Reservation[] = [];
  for (const r of activeOf(view)) if (r.state === "active" && r.expiresAtMs > nowMs) out.push(r);
  return out;
}

function sumTokens(w: WindowRange): number {
  let sum = 0;
  const outside = w.start + (w.log.length - w.end);
  if (w.logTokens !== undefined && outside < w.end - w.start) {
    // Fewer entries outside the window than in it (the usual case right after housekeeping).
    sum = w.logTokens;
    for (let i = 0; i < w.start; i++) sum -= w.log[i]!.tokens;
    for (let i = w.end; i < w.log.length; i++) sum -= w.log[i]!.tokens;
    return sum;
  }
  for (let i = w.start; i < w.end; i++) sum += w.log[i]!.tokens;
  return sum;
}

interface Check {
  rejection: Rejection;
  retryAfterMs: number;
}

function checkRequests(window: WindowRange, limit: number, nowMs: number): Check | null {
  const used = rangeLength(window);
  if (used + 1 <= limit) return null;
  const base = { kind: "requests_per_minute" as const, quotaExhausted: false, limit, used, requested: 1 };
  if (limit === 0) return { rejection: { ...base, tooLarge: true }, retryAfterMs: WINDOW_MS };
  // The (used + 1 - limit)-th oldest entry leaving the window makes room for one more.
  const freeing = window.log[window.start + used - limit]!;
  return { rejection: { ...base, tooLarge: false }, retryAfterMs: freeing.admittedAtMs + WINDOW_MS - nowMs };
}

function checkTokensPerMinute(window: WindowRange, limit: number, cost: number, nowMs: number): Check | null {
  let used = sumTokens(window);
  if (used + cost <= limit) return null;
  const base = { kind: "tokens_per_minute" as const, quotaExhausted: false, limit, used, requested: cost };
  if (cost > limit) return { rejection: { ...base, tooLarge: true }, retryAfterMs: WINDOW_MS };
  for (let i = window.start; i < window.end; i++) {
    const r = window.log[i]!;
    used -= r.tokens;
    if (used + cost <= limit) return { rejection: { ...base, tooLarge: false }, retryAfterMs: r.admittedAtMs + WINDOW_MS - nowMs };
  }
  // Unreachable: emptying the window always makes room when cost <= limit.
  return { rejection: { ...base, tooLarge: false }, retryAfterMs: WINDOW_MS };
}

function checkConcurrency(active: Reservation[], limit: number): Check | null {
  const used = active.length;
  if (used + 1 <= limit) return null;
  const rejection: Rejection = { kind: "max_concurrent", quotaExhausted: false, tooLarge: limit === 0, limit, used, requested: 1 };
  return { rejection, retryAfterMs: IN_FLIGHT_RETRY_MS };
}

function checkTokensPerDay(view: LedgerView, active: Reservation[], limit: number, cost: number, nowMs: number): Check | null {
  const used = tokensToday(view, nowMs);
  if (used + cost <= limit) return null;
  const today = utcDay(nowMs);
  const inFlight = active.filter((r) => r.day === today).reduce((sum, r) => sum + r.tokens, 0);
  const committed = used - inFlight;
  const base = { kind: "tokens_per_day" as const, limit, used, requested: cost, reserved: inFlight };
  if (cost > limit) return { rejection: { ...base, quotaExhausted: false, tooLarge: true }, retryAfterMs: msUntilNextUtcDay(nowMs) };
  if (committed + cost > limit) {
    return { rejection: { ...base, quotaExhausted: true, tooLarge: false }, retryAfterMs: msUntilNextUtcDay(nowMs) };
  }
  // Running requests' estimates block, and they usually settle lower: a short wait may help.
  return { rejection: { ...base, quotaExhausted: false, tooLarge: false }, retryAfterMs: IN_FLIGHT_RETRY_MS };
}

const KIND_PRIORITY: readonly LimitKind[] = ["tokens_per_day", "requests_per_minute", "tokens_per_minute", "max_concurrent"];

function rank(r: Rejection): number {
  // Hopeless first (too large, quota gone), then the order above.
  const hopeless = r.tooLarge ? 0 : r.quotaExhausted ? 1 : 2;
  return hopeless * 10 + KIND_PRIORITY.indexOf(r.kind);
}

export type Decision = { ok: true } | { ok: false; rejection: Rejection; retryAfterMs: number };

/**
 * Whether one more request costing `estimatedTokens` fits every limit at nowMs. When not, the
 * reported rejection is the most hopeless one and retryAfterMs the latest moment any failing
 * limit frees (all must pass at once).
 */
export function decideAdmission(input: { view: LedgerView; limits: Limits; estimatedTokens: number; nowMs: number }): Decision {
  const { view, limits, estimatedTokens: cost, nowMs } = input;
  const window = windowRange(view, nowMs);
  const active = activeLeases(view, nowMs);
  const checks = [
    limits.requestsPerMinute === null ? null : checkRequests(window, limits.requestsPerMinute, nowMs),
    limits.tokensPerMinute === null ? null : checkTokensPerMinute(window, limits.tokensPerMinute, cost, nowMs),
    limits.maxConcurrent === null ? null : checkConcurrency(active, limits.maxConcurrent),
    limits.tokensPerDay === null ? null : checkTokensPerDay(view, active, limits.tokensPerDay, cost, nowMs),
  ].filter((c): c is Check => c !== null);
  if (checks.length === 0) return { ok: true };
  const primary = checks.reduce((best, c) => (rank(c.rejection) < rank(best.rejection) ? c : best));
  const retryAfterMs = Math.max(...checks.map((c) => c.retryAfterMs));
  return { ok: false, rejection: primary.rejection, retryAfterMs: Math.max(1, retryAfterMs) };
}

/**
 * The header view of one scope: remaining room and time until the window is back to its initial
 * state (the newest charge leaving it), as OpenAI's x-ratelimit-reset-* mean it.
 */
export function usageSnapshot(input: { view: LedgerView; limits: Limits; nowMs: number }): UsageSnapshot {
  const { view, limits, nowMs } = input;
  const window = windowRange(view, nowMs);
  let requests: UsageTrio | null = null;
  if (limits.requestsPerMinute !== null) {
    const newest = rangeLength(window) > 0 ? window.log[window.end - 1] : undefined;
    requests = {
      limit: limits.requestsPerMinute,
      remaining: Math.max(0, limits.requestsPerMinute - rangeLength(window)),
      resetMs: newest ? newest.admittedAtMs + WINDOW_MS - nowMs : 0,
    };
  }
  let minute: UsageTrio | null = null;
  if (limits.tokensPerMinute !== null) {
    const used = sumTokens(window);
    // The newest reservation that still holds tokens: the window is back to full when it leaves.
    let newest: Reservation | undefined;
    for (let i = window.end - 1; i >= window.start && newest === undefined; i--) if (window.log[i]!.tokens > 0) newest = window.log[i];
    minute = {
      limit: limits.tokensPerMinute,
      remaining: Math.max(0, limits.tokensPerMinute - used),
      resetMs: newest ? newest.admittedAtMs + WINDOW_MS - nowMs : 0,
    };
  }
  let day: UsageTrio | null = null;
  if (limits.tokensPerDay !== null) {
    const used = tokensToday(view, nowMs);
    day = { limit: limits.tokensPerDay, remaining: Math.max(0, limits.tokensPerDay - used), resetMs: used > 0 ? msUntilNextUtcDay(nowMs) : 0 };
  }
  return { requests, tokens: tighterTrio(minute, day) };
}

/** Of two trios, the one with less room left (ties: the first). */
export function tighterTrio(a: UsageTrio | null, b: UsageTrio | null): UsageTrio | null {
  if (a === null) return b;
  if (b === null) return a;
  return b.remaining < a.remaining ? b : a;
}

/** Combines the key's and the end user's snapshots: each trio from the tighter scope. */
export function combineSnapshots(snapshots: readonly UsageSnapshot[]): UsageSnapshot {
  return snapshots.reduce<UsageSnapshot>(
    (acc, s) => ({ requests: tighterTrio(acc.requests, s.requests), tokens: tighterTrio(acc.tokens, s.tokens) }),
    { requests: null, tokens: null },
  );
}

/** Token charge after settlement, and the change to the daily counter (only if still the admission day). */
export function settleCharge(input: { reservation: Reservation; actualTokens: number; counterDay: number }): { tokens: number; dayDelta: number } {
  const { reservation, actualTokens, counterDay } = input;
  return { tokens: actualTokens, dayDelta: reservation.day === counterDay ? actualTokens - reservation.tokens : 0 };
}

/** Leases whose time is up at nowMs. */
export function expiredLeases(view: LedgerView, nowMs: number): Reservation[] {
  const out: Reservation[] = [];
  for (const r of activeOf(view)) if (r.state === "active" && r.expiresAtMs <= nowMs) out.push(r);
  return out;
}

/** Finished reservations that no longer count anywhere (out of the minute window): a prefix of the log, less running ones. */
export function prunable(view: LedgerView, nowMs: number): Reservation[] {
  const out: Reservation[] = [];
  const end = windowStartIndex(view, nowMs);
  for (let i = 0; i < end; i++) if (view.reservations[i]!.state !== "active") out.push(view.reservations[i]!);
  return out;
}

/** When the next lease lapses (for the alarm), or null with none active. */
export function nextLeaseExpiryMs(view: LedgerView): number | null {
  let next: number | null = null;
  for (const r of activeOf(view)) if (r.state === "active" && (next === null || r.expiresAtMs < next)) next = r.expiresAtMs;
  return next;
}
