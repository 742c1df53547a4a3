import { describe, expect, it } from "vitest";
import { Ledger } from "../../workers/limits/ledger.js";
import type { AdmitResult, Limits } from "../../workers/limits/types.js";
import { DAY_MS, decideAdmission, IN_FLIGHT_RETRY_MS, msUntilNextUtcDay, utcDay, WINDOW_MS } from "../../workers/limits/window-math.js";

const UNLIMITED: Limits = { requestsPerMinute: null, tokensPerMinute: null, maxConcurrent: null, tokensPerDay: null };
// A UTC midnight, so day arithmetic in the tables is readable.
const T0 = Date.UTC(2026, 0, 10);
const TTL_MS = 300_000;

type Step =
  | { admit: number; at: number; expect: "ok" | { kind: string; retryAfterMs: number; quotaExhausted?: boolean; tooLarge?: boolean } }
  | { settle: number; tokens: number; at: number; expectSettled?: boolean }
  | { release: number; at: number }
  | { housekeep: number };

/** Runs a table of steps against one ledger; `settle: i` refers to the i-th successful admission. */
function run(limits: Partial<Limits>, steps: Step[]): void {
  const ledger = new Ledger({ reservations: [], day: 0, dayTokens: 0, lastNowMs: 0 });
  const leases: string[] = [];
  let n = 0;
  for (const [i, step] of steps.entries()) {
    const where = `step ${i}: ${JSON.stringify(step)}`;
    if ("admit" in step) {
      const r: AdmitResult = ledger.admit({
        requestId: `r${i}`,
        estimatedTokens: step.admit,
        limits: { ...UNLIMITED, ...limits },
        leaseTtlMs: TTL_MS,
        nowMs: T0 + step.at,
        leaseId: `lease-${n++}`,
      });
      if (step.expect === "ok") {
        expect(r.ok, where).toBe(true);
        if (r.ok) leases.push(r.leaseId);
      } else {
        expect(r.ok, where).toBe(false);
        if (!r.ok) {
          expect(r.rejection.kind, where).toBe(step.expect.kind);
          expect(r.retryAfterMs, where).toBe(step.expect.retryAfterMs);
          expect(r.rejection.quotaExhausted, where).toBe(step.expect.quotaExhausted ?? false);
          expect(r.rejection.tooLarge, where).toBe(step.expect.tooLarge ?? false);
        }
      }
    } else if ("settle" in step) {
      const r = ledger.settle({ leaseId: leases[step.settle]!, actualTokens: step.tokens, nowMs: T0 + step.at });
      expect(r.settled, where).toBe(step.expectSettled ?? true);
    } else if ("release" in step) {
      ledger.release({ leaseId: leases[step.release]!, nowMs: T0 + step.at });
    } else {
      ledger.housekeep(ledger.clock(T0 + step.housekeep));
    }
  }
}

describe("requests per minute (sliding window log)", () => {
  it("admits L in a minute, then tells exactly when the oldest leaves the window", () => {
    run({ requestsPerMinute: 3 }, [
      { admit: 0, at: 0, expect: "ok" },
      { admit: 0, at: 10_000, expect: "ok" },
      { admit: 0, at: 20_000, expect: "ok" },
      { admit: 0, at: 30_000, expect: { kind: "requests_per_minute", retryAfterMs: 30_000 } },
      { admit: 0, at: 59_999, expect: { kind: "requests_per_minute", retryAfterMs: 1 } },
      { admit: 0, at: 60_000, expect: "ok" },
      { admit: 0, at: 60_001, expect: { kind: "requests_per_minute", retryAfterMs: 9_999 } },
    ]);
  });

  it("never lets more than L through in any 60 s window (no burst-plus-refill)", () => {
    run({ requestsPerMinute: 2 }, [
      { admit: 0, at: 0, expect: "ok" },
      { admit: 0, at: 0, expect: "ok" },
      { admit: 0, at: 30_000, expect: { kind: "requests_per_minute", retryAfterMs: 30_000 } },
      { admit: 0, at: 60_000, expect: "ok" },
      { admit: 0, at: 60_000, expect: "ok" },
      { admit: 0, at: 60_000, expect: { kind: "requests_per_minute", retryAfterMs: 60_000 } },
    ]);
  });

  it("counts settled and failed requests (settle with 0) but never rejected ones", () => {
    run({ requestsPerMinute: 2 }, [
      { admit: 5, at: 0, expect: "ok" },
      { settle: 0, tokens: 0, at: 1_000 },
      { admit: 5, at: 2_000, expect: "ok" },
      { admit: 5, at: 3_000, expect: { kind: "requests_per_minute", retryAfterMs: 57_000 } },
      { admit: 5, at: 4_000, expect: { kind: "requests_per_minute", retryAfterMs: 56_000 } },
      { admit: 5, at: 60_000, expect: "ok" },
    ]);
  });

  it("a limit of 0 blocks every request as hopeless", () => {
    run({ requestsPerMinute: 0 }, [{ admit: 1, at: 0, expect: { kind: "requests_per_minute", retryAfterMs: WINDOW_MS, tooLarge: true } }]);
  });
});

describe("tokens per minute", () => {
  it("reserves the estimate and waits until enough old tokens leave the window", () => {
    run({ tokensPerMinute: 100 }, [
      { admit: 40, at: 0, expect: "ok" },
      { admit: 40, at: 10_000, expect: "ok" },
      { admit: 30, at: 20_000, expect: { kind: "tokens_per_minute", retryAfterMs: 40_000 } },
      { admit: 20, at: 20_000, expect: "ok" },
      // 100 used; 90 more needs all three entries gone (the last leaves at 80 s).
      { admit: 90, at: 30_000, expect: { kind: "tokens_per_minute", retryAfterMs: 50_000 } },
      // 60 more needs only the first two gone (at 70 s).
      { admit: 60, at: 30_000, expect: { kind: "tokens_per_minute", retryAfterMs: 40_000 } },
    ]);
  });

  it("settling lower frees room at once; settling higher takes more", () => {
    run({ tokensPerMinute: 100 }, [
      { admit: 80, at: 0, expect: "ok" },
      { admit: 30, at: 1_000, expect: { kind: "tokens_per_minute", retryAfterMs: 59_000 } },
      { settle: 0, tokens: 10, at: 2_000 },
      { admit: 30, at: 3_000, expect: "ok" },
      { settle: 1, tokens: 85, at: 4_000 },
      { admit: 10, at: 5_000, expect: { kind: "tokens_per_minute", retryAfterMs: 55_000 } },
    ]);
  });

  it("settling twice does nothing the second time", () => {
    run({ tokensPerMinute: 100 }, [
      { admit: 50, at: 0, expect: "ok" },
      { settle: 0, tokens: 90, at: 1_000 },
      { settle: 0, tokens: 0, at: 2_000, expectSettled: false },
      { admit: 20, at: 3_000, expect: { kind: "tokens_per_minute", retryAfterMs: 57_000 } },
    ]);
  });

  it("a request bigger than the limit is hopeless", () => {
    run({ tokensPerMinute: 100 }, [{ admit: 101, at: 0, expect: { kind: "tokens_per_minute", retryAfterMs: WINDOW_MS, tooLarge: true } }]);
  });

  it("a released admission leaves no trace", () => {
    run({ tokensPerMinute: 100, requestsPerMinute: 1 }, [
      { admit: 100, at: 0, expect: "ok" },
      { release: 0, at: 1 },
      { admit: 100, at: 2, expect: "ok" },
    ]);
  });
});

describe("max concurrent", () => {
  it("holds a slot until settled, and an expired lease frees it", () => {
    run({ maxConcurrent: 2 }, [
      { admit: 1, at: 0, expect: "ok" },
      { admit: 1, at: 1_000, expect: "ok" },
      { admit: 1, at: 2_000, expect: { kind: "max_concurrent", retryAfterMs: IN_FLIGHT_RETRY_MS } },
      { settle: 0, tokens: 1, at: 3_000 },
      { admit: 1, at: 3_000, expect: "ok" },
      { admit: 1, at: TTL_MS + 999, expect: { kind: "max_concurrent", retryAfterMs: IN_FLIGHT_RETRY_MS } },
      // Lease 1 (admitted at 1 s) lapses at 301 s.
      { admit: 1, at: TTL_MS + 1_000, expect: "ok" },
      // A late settle of an expired lease changes nothing.
      { settle: 1, tokens: 0, at: TTL_MS + 2_000, expectSettled: false },
    ]);
  });
});

describe("tokens per day (UTC day counter)", () => {
  it("is insufficient_quota until the next UTC midnight, then resets", () => {
    const atEvening = 20 * 3_600_000;
    run({ tokensPerDay: 1_000 }, [
      { admit: 600, at: 0, expect: "ok" },
      { settle: 0, tokens: 600, at: 1_000 },
      { admit: 400, at: 2_000, expect: "ok" },
      { settle: 1, tokens: 400, at: 3_000 },
      { admit: 1, at: atEvening, expect: { kind: "tokens_per_day", retryAfterMs: DAY_MS - atEvening, quotaExhausted: true } },
      { admit: 1, at: DAY_MS - 1, expect: { kind: "tokens_per_day", retryAfterMs: 1, quotaExhausted: true } },
      { admit: 1_000, at: DAY_MS, expect: "ok" },
    ]);
  });

  it("tokens reserved by running requests are a short wait, not an exhausted quota", () => {
    run({ tokensPerDay: 1_000 }, [
      { admit: 900, at: 0, expect: "ok" },
      { admit: 200, at: 1_000, expect: { kind: "tokens_per_day", retryAfterMs: IN_FLIGHT_RETRY_MS } },
      { settle: 0, tokens: 100, at: 2_000 },
      { admit: 200, at: 3_000, expect: "ok" },
    ]);
  });

  it("a request settled after midnight does not touch the new day", () => {
    run({ tokensPerDay: 1_000 }, [
      { admit: 900, at: DAY_MS - 10_000, expect: "ok" },
      { settle: 0, tokens: 5_000, at: DAY_MS + 10_000 },
      { admit: 1_000, at: DAY_MS + 20_000, expect: "ok" },
    ]);
  });

  it("a request larger than the whole day is hopeless", () => {
    run({ tokensPerDay: 10 }, [{ admit: 11, at: 0, expect: { kind: "tokens_per_day", retryAfterMs: DAY_MS, tooLarge: true } }]);
  });

  it("utcDay and msUntilNextUtcDay", () => {
    expect(utcDay(T0)).toBe(T0 / DAY_MS);
    expect(msUntilNextUtcDay(T0)).toBe(DAY_MS);
    expect(msUntilNextUtcDay(T0 + DAY_MS - 1)).toBe(1);
  });
});

describe("several limits at once", () => {
  it("reports the exhausted quota first and waits for the latest limit to free", () => {
    const view = {
      reservations: [
        { leaseId: "a", requestId: "a", admittedAtMs: T0, day: utcDay(T0), tokens: 50, state: "settled" as const, expiresAtMs: T0 + TTL_MS },
      ],
      day: utcDay(T0),
      dayTokens: 50,
    };
    const d = decideAdmission({ view, limits: { requestsPerMinute: 1, tokensPerMinute: null, maxConcurrent: null, tokensPerDay: 50 }, estimatedTokens: 1, nowMs: T0 + 1_000 });
    expect(d).toMatchObject({ ok: false, rejection: { kind: "tokens_per_day", quotaExhausted: true }, retryAfterMs: DAY_MS - 1_000 });
    const d2 = decideAdmission({ view, limits: { requestsPerMinute: 1, tokensPerMinute: 60, maxConcurrent: null, tokensPerDay: null }, estimatedTokens: 20, nowMs: T0 + 1_000 });
    expect(d2).toMatchObject({ ok: false, rejection: { kind: "requests_per_minute" }, retryAfterMs: 59_000 });
  });

  it("admits anything when every kind is unlimited", () => {
    run({}, Array.from({ length: 20 }, (_, i) => ({ admit: 1_000_000, at: i, expect: "ok" as const })));
  });
});
