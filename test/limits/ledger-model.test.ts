/**
 * The ledger against a naive model: whatever sequence of admissions, settlements, releases and
 * clock steps, its decisions and header snapshots equal those of a model that keeps every
 * request forever and filters the whole list each time. The ledger finds the minute window by
 * binary search, keeps running leases apart and prunes only the log's prefix; this checks that
 * none of that changes an answer.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Ledger } from "../../workers/limits/ledger.js";
import type { Limits, UsageSnapshot } from "../../workers/limits/types.js";
import { decideAdmission, usageSnapshot, WINDOW_MS, type Reservation } from "../../workers/limits/window-math.js";

const T0 = Date.UTC(2026, 0, 10, 23, 50);
const TTL_MS = 90_000;

type Op =
  | { kind: "admit"; tokens: number; advanceMs: number }
  | { kind: "settle"; pick: number; tokens: number; advanceMs: number }
  | { kind: "release"; pick: number; advanceMs: number };

const advance = fc.integer({ min: 0, max: 20_000 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("admit" as const), tokens: fc.integer({ min: 0, max: 400 }), advanceMs: advance }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("settle" as const), pick: fc.nat(), tokens: fc.integer({ min: 0, max: 400 }), advanceMs: advance }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("release" as const), pick: fc.nat(), advanceMs: advance }) },
);
const limitValue = fc.option(fc.integer({ min: 0, max: 3_000 }), { nil: null });
const limits: fc.Arbitrary<Limits> = fc.record({
  requestsPerMinute: fc.option(fc.integer({ min: 0, max: 12 }), { nil: null }),
  tokensPerMinute: limitValue,
  maxConcurrent: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
  tokensPerDay: limitValue,
});

/** Every reservation ever made, with the ledger's own state transitions replayed naively. */
class NaiveModel {
  readonly all: Reservation[] = [];
  day = 0;
  dayTokens = 0;

  view(): { reservations: Reservation[]; day: number; dayTokens: number } {
    return { reservations: this.all, day: this.day, dayTokens: this.dayTokens };
  }
}

/** The header snapshot computed by filtering every reservation ever made, independently of window-math's search. */
function naiveSnapshot(all: readonly Reservation[], model: NaiveModel, lim: Limits, now: number): UsageSnapshot {
  const window = all.filter((r) => now - r.admittedAtMs < WINDOW_MS && r.admittedAtMs <= now);
  const requests =
    lim.requestsPerMinute === null
      ? null
      : { limit: lim.requestsPerMinute, remaining: Math.max(0, lim.requestsPerMinute - window.length), resetMs: window.length > 0 ? window.at(-1)!.admittedAtMs + WINDOW_MS - now : 0 };
  const charged = window.filter((r) => r.tokens > 0);
  const used = charged.reduce((s, r) => s + r.tokens, 0);
  const minute =
    lim.tokensPerMinute === null
      ? null
      : { limit: lim.tokensPerMinute, remaining: Math.max(0, lim.tokensPerMinute - used), resetMs: charged.length > 0 ? charged.at(-1)!.admittedAtMs + WINDOW_MS - now : 0 };
  const dayUsed = model.day === Math.floor(now / 86_400_000) ? model.dayTokens : 0;
  const day =
    lim.tokensPerDay === null
      ? null
      : { limit: lim.tokensPerDay, remaining: Math.max(0, lim.tokensPerDay - dayUsed), resetMs: dayUsed > 0 ? (Math.floor(now / 86_400_000) + 1) * 86_400_000 - now : 0 };
  const tokens = minute === null ? day : day === null ? minute : day.remaining < minute.remaining ? day : minute;
  return { requests, tokens };
}

describe("Ledger", () => {
  it("decides and reports exactly as a model that never prunes", () => {
    fc.assert(
      fc.property(limits, fc.array(op, { minLength: 1, maxLength: 80 }), (lim, ops) => {
        const ledger = new Ledger({ reservations: [], day: 0, dayTokens: 0, lastNowMs: 0 });
        const model = new NaiveModel();
        let now = T0;
        let n = 0;
        for (const o of ops) {
          now += o.advanceMs;
          // The model's view of the same moment: expire lapsed leases and roll the day, as the
          // ledger's housekeeping does, but never drop anything.
          const syncModel = () => {
            for (const r of model.all) if (r.state === "active" && r.expiresAtMs <= now) r.state = "expired";
            const today = Math.floor(now / 86_400_000);
            if (today !== model.day) {
              model.day = today;
              model.dayTokens = 0;
            }
          };
          if (o.kind === "admit") {
            syncModel();
            const expected = decideAdmission({ view: model.view(), limits: lim, estimatedTokens: o.tokens, nowMs: now });
            const leaseId = `l${n++}`;
            const got = ledger.admit({ requestId: leaseId, estimatedTokens: o.tokens, limits: lim, leaseTtlMs: TTL_MS, nowMs: now, leaseId });
            expect(got.ok).toBe(expected.ok);
            if (!got.ok && !expected.ok) {
              expect(got.rejection).toEqual(expected.rejection);
              expect(got.retryAfterMs).toBe(expected.retryAfterMs);
            }
            if (got.ok) {
              model.all.push({ leaseId, requestId: leaseId, admittedAtMs: now, day: model.day, tokens: o.tokens, state: "active", expiresAtMs: now + TTL_MS });
              model.dayTokens += o.tokens;
            }
            const modelSnapshot: UsageSnapshot = usageSnapshot({ view: model.view(), limits: lim, nowMs: now });
            expect(got.usage).toEqual(modelSnapshot);
            expect(got.usage).toEqual(naiveSnapshot(model.all, model, lim, now));
          } else {
            const active = model.all.filter((r) => r.state === "active" && r.expiresAtMs > now);
            if (active.length === 0) continue;
            const target = active[o.pick % active.length]!;
            if (o.kind === "settle") {
              expect(ledger.settle({ leaseId: target.leaseId, actualTokens: o.tokens, nowMs: now }).settled).toBe(true);
              syncModel();
              if (target.day === model.day) model.dayTokens = Math.max(0, model.dayTokens + o.tokens - target.tokens);
              target.tokens = o.tokens;
              target.state = "settled";
            } else {
              expect(ledger.release({ leaseId: target.leaseId, nowMs: now }).settled).toBe(true);
              syncModel();
              if (target.day === model.day) model.dayTokens = Math.max(0, model.dayTokens - target.tokens);
              model.all.splice(model.all.indexOf(target), 1);
            }
          }
          // What the ledger still holds is sorted and covers the window and every running lease.
          const held = ledger.reservations;
          for (let i = 1; i < held.length; i++) expect(held[i]!.admittedAtMs).toBeGreaterThanOrEqual(held[i - 1]!.admittedAtMs);
          const mustHold = model.all.filter((r) => r.state === "active" || now - r.admittedAtMs < WINDOW_MS).map((r) => r.leaseId);
          const heldIds = new Set(held.map((r) => r.leaseId));
          for (const id of mustHold) expect(heldIds.has(id)).toBe(true);
          expect(ledger.logTokens).toBe(held.reduce((s, r) => s + r.tokens, 0));
          expect([...ledger.active].map((r) => r.leaseId).sort()).toEqual(held.filter((r) => r.state === "active").map((r) => r.leaseId).sort());
        }
      }),
      { numRuns: 300 },
    );
  });
});
