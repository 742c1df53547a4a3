import { describe, expect, it } from "vitest";
import { checkStorage, countOutcomes, memoryDelta, recoveryAfter, ttftPercentiles, type StoredMessage, type TurnRecord } from "../../bench/soak/analysis.js";

function turn(p: Partial<TurnRecord> & { content: string }): TurnRecord {
  return { conversationId: "c1", startedAt: 0, firstTokenAt: null, endedAt: 0, status: 200, outcome: "complete", errorCode: null, brokenReason: null, ...p };
}
const user = (content: string): StoredMessage => ({ role: "user", content, status: null });
const reply = (status = "complete"): StoredMessage => ({ role: "assistant", content: "…", status });
const none = { acceptedTurns: 0, userLost: 0, userDuplicated: 0, refusedButStored: 0, assistantMissing: 0, assistantDuplicated: 0 };

describe("soak storage check", () => {
  const cases: { name: string; turns: TurnRecord[]; stored: Record<string, StoredMessage[]>; expected: Partial<typeof none> }[] = [
    { name: "every accepted turn stored once with one reply", turns: [turn({ content: "a" }), turn({ content: "b" })], stored: { c1: [user("a"), reply(), user("b"), reply()] }, expected: { acceptedTurns: 2 } },
    { name: "an accepted turn missing from the store is lost", turns: [turn({ content: "a" }), turn({ content: "b" })], stored: { c1: [user("a"), reply()] }, expected: { acceptedTurns: 2, userLost: 1 } },
    { name: "a user message stored twice", turns: [turn({ content: "a" })], stored: { c1: [user("a"), reply(), user("a"), reply()] }, expected: { acceptedTurns: 1, userDuplicated: 1 } },
    { name: "two replies to one user message: a generation stored twice", turns: [turn({ content: "a" })], stored: { c1: [user("a"), reply(), reply()] }, expected: { acceptedTurns: 1, assistantDuplicated: 1 } },
    { name: "an accepted turn without a reply", turns: [turn({ content: "a" }), turn({ content: "b" })], stored: { c1: [user("a"), user("b"), reply()] }, expected: { acceptedTurns: 2, assistantMissing: 1 } },
    { name: "a cancelled or failed reply still counts as the one reply", turns: [turn({ content: "a", outcome: "disconnected" }), turn({ content: "b", outcome: "clean-error" })], stored: { c1: [user("a"), reply("cancelled"), user("b"), reply("failed")] }, expected: { acceptedTurns: 2 } },
    { name: "a refused turn (503) must not be stored", turns: [turn({ content: "a", status: 503, outcome: "clean-error" })], stored: { c1: [user("a")] }, expected: { refusedButStored: 1 } },
    { name: "a refused turn that stored nothing is fine", turns: [turn({ content: "a", status: 503, outcome: "clean-error" })], stored: { c1: [] }, expected: {} },
    { name: "a turn with no answer at all (status 0) is judged only by its copies", turns: [turn({ content: "a", status: 0, outcome: "broken" }), turn({ content: "b", status: 0, outcome: "broken" })], stored: { c1: [user("b"), reply(), reply()] }, expected: { assistantDuplicated: 1 } },
    { name: "the same text in another conversation is another message", turns: [turn({ content: "a" }), turn({ content: "a", conversationId: "c2" })], stored: { c1: [user("a"), reply()], c2: [] }, expected: { acceptedTurns: 2, userLost: 1 } },
    { name: "a conversation never read back loses its turns", turns: [turn({ content: "a", conversationId: "c9" })], stored: {}, expected: { acceptedTurns: 1, userLost: 1 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(checkStorage(c.turns, new Map(Object.entries(c.stored)))).toEqual({ ...none, ...c.expected });
    });
  }
});

describe("soak recovery time", () => {
  const ok = (startedAt: number, firstTokenAt = startedAt + 100) => turn({ content: `${startedAt}`, startedAt, firstTokenAt, endedAt: firstTokenAt + 500 });
  const bad = (startedAt: number) => turn({ content: `${startedAt}`, startedAt, endedAt: startedAt + 10, status: 503, outcome: "clean-error" });
  const cases: { name: string; turns: TurnRecord[]; faultEndAt: number; expected: { firstSuccessMs: number | null; allGoodMs: number | null } }[] = [
    { name: "all good at once", turns: [bad(500), ok(1_000), ok(1_200)], faultEndAt: 1_000, expected: { firstSuccessMs: 100, allGoodMs: 0 } },
    { name: "failures after the fault's end delay all-good to the last one's start", turns: [bad(1_100), ok(1_200, 1_500), bad(1_800), ok(2_000)], faultEndAt: 1_000, expected: { firstSuccessMs: 500, allGoodMs: 800 } },
    { name: "still failing at the end: never all good", turns: [ok(1_100), bad(1_500)], faultEndAt: 1_000, expected: { firstSuccessMs: 200, allGoodMs: null } },
    { name: "nothing succeeded after the fault", turns: [bad(1_100), bad(1_500)], faultEndAt: 1_000, expected: { firstSuccessMs: null, allGoodMs: null } },
    { name: "turns started before the fault's end do not count", turns: [ok(900, 950), ok(1_300, 1_350)], faultEndAt: 1_000, expected: { firstSuccessMs: 350, allGoodMs: 0 } },
    { name: "a client's own disconnect is neither", turns: [turn({ content: "x", startedAt: 1_100, outcome: "disconnected" }), ok(1_200)], faultEndAt: 1_000, expected: { firstSuccessMs: 300, allGoodMs: 0 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(recoveryAfter(c.turns, c.faultEndAt)).toEqual(c.expected);
    });
  }
});

describe("soak outcome counts and percentiles", () => {
  it("counts outcomes, error codes and broken reasons", () => {
    const counts = countOutcomes([
      turn({ content: "a" }),
      turn({ content: "b", outcome: "clean-error", errorCode: "503 storage_unavailable" }),
      turn({ content: "c", outcome: "clean-error", errorCode: "503 storage_unavailable" }),
      turn({ content: "d", outcome: "clean-error", errorCode: "stream upstream_failed" }),
      turn({ content: "e", outcome: "broken", brokenReason: "a frame that is not JSON" }),
      turn({ content: "f", outcome: "disconnected" }),
    ]);
    expect(counts).toEqual({
      turns: 6,
      complete: 1,
      cleanErrors: 3,
      broken: 1,
      disconnected: 1,
      errorCodes: { "503 storage_unavailable": 2, "stream upstream_failed": 1 },
      brokenReasons: { "a frame that is not JSON": 1 },
    });
  });

  const ttftCases: { name: string; ttfts: (number | null)[]; expected: { count: number; p50: number; p99: number } }[] = [
    { name: "one sample", ttfts: [120], expected: { count: 1, p50: 120, p99: 120 } },
    { name: "turns without a token are left out", ttfts: [100, null, 300], expected: { count: 2, p50: 200, p99: 298 } },
    { name: "interpolated between ranks", ttfts: [10, 20, 30, 40, 50], expected: { count: 5, p50: 30, p99: 49.6 } },
  ];
  for (const c of ttftCases) {
    it(`TTFT percentiles: ${c.name}`, () => {
      const turns = c.ttfts.map((t, i) => turn({ content: `${i}`, startedAt: 1_000, firstTokenAt: t === null ? null : 1_000 + t }));
      const got = ttftPercentiles(turns);
      expect(got.count).toBe(c.expected.count);
      expect(got.p50).toBeCloseTo(c.expected.p50, 6);
      expect(got.p99).toBeCloseTo(c.expected.p99, 6);
    });
  }

  it("no samples: NaN percentiles", () => {
    expect(ttftPercentiles([turn({ content: "a" })])).toEqual({ count: 0, p50: NaN, p99: NaN });
  });

  it("memory change in MB and as a ratio", () => {
    expect(memoryDelta(100 * 2 ** 20, 110 * 2 ** 20)).toEqual({ startMb: 100, endMb: 110, changeMb: 10, changeRatio: 0.1 });
    expect(memoryDelta(0, 5).changeRatio).toBeNaN();
  });
});
