/**
 * What one limiter decision costs in CPU as a key gets busier: the Ledger (the object's in-memory
 * state, no I/O) holds one entry per request of the last minute, so a key at R requests/s holds
 * 60·R. Fills a ledger at a steady rate, then times admit + settle pairs. Used by bench/limiter.ts.
 */
import { Ledger } from "../workers/limits/ledger.js";
import type { Limits } from "../workers/limits/types.js";

const HIGH: Limits = { requestsPerMinute: 1e9, tokensPerMinute: 1e12, maxConcurrent: 1e6, tokensPerDay: 1e12 };
const LEASE_TTL_MS = 300_000;
const TIMED_PAIRS = 2_000;

export interface LedgerCost {
  requestsPerSecond: number;
  /** Reservations the ledger held while the pairs were timed (about 60 s worth). */
  reservations: number;
  /** Mean microseconds per admit + settle pair. */
  meanUsPerPair: number;
}

/** Times admit + settle at `requestsPerSecond` steady load after a minute's worth of history. */
export function ledgerCost(requestsPerSecond: number): LedgerCost {
  const ledger = new Ledger({ reservations: [], day: 0, dayTokens: 0, lastNowMs: 0 });
  const stepMs = 1_000 / requestsPerSecond;
  let now = Date.UTC(2026, 0, 10, 12);
  let i = 0;
  const pair = (): void => {
    now += stepMs;
    const leaseId = `l${i++}`;
    const r = ledger.admit({ requestId: leaseId, estimatedTokens: 300, limits: HIGH, leaseTtlMs: LEASE_TTL_MS, nowMs: now, leaseId });
    if (r.ok) ledger.settle({ leaseId: r.leaseId, actualTokens: 200, nowMs: now });
    ledger.drainChanges();
  };
  for (let n = 0; n < requestsPerSecond * 61; n++) pair();
  const t0 = performance.now();
  for (let n = 0; n < TIMED_PAIRS; n++) pair();
  const elapsedMs = performance.now() - t0;
  return { requestsPerSecond, reservations: ledger.reservations.length, meanUsPerPair: Math.round((elapsedMs / TIMED_PAIRS) * 1000 * 10) / 10 };
}
