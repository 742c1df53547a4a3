/** Matchmaking and the reveal rule, by tables: pure functions, seeded random sources. */
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../workers/arena/bootstrap.js";
import { matchupProbability, pickMatchup, type ArenaCandidate } from "../../workers/arena/matchmaking.js";
import { battleView, modelsRevealed } from "../../workers/arena/battle-view.js";
import type { ArenaBattleRow } from "../../workers/db/schema.js";

/** A random source that returns these values in turn. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe("pickMatchup", () => {
  const two: ArenaCandidate[] = [
    { model: "x", weight: 1 },
    { model: "y", weight: 1 },
  ];
  it.each([
    { name: "no candidates", candidates: [], expected: null },
    { name: "one candidate", candidates: [{ model: "x", weight: 1 }], expected: null },
    { name: "one model listed twice", candidates: [{ model: "x", weight: 1 }, { model: "x", weight: 2 }], expected: null },
    { name: "two: first drawn is A on a low coin", candidates: two, random: [0.1, 0.5, 0.2], expected: { a: "x", b: "y" } },
    { name: "two: first drawn is B on a high coin", candidates: two, random: [0.1, 0.5, 0.7], expected: { a: "y", b: "x" } },
    { name: "weights: r = 0.5 of 1 + 3 lands on the heavy one", candidates: [{ model: "x", weight: 1 }, { model: "y", weight: 3 }, { model: "z", weight: 1 }], random: [0.5, 0.99, 0.1], expected: { a: "y", b: "z" } },
  ])("$name", ({ candidates, random, expected }) => {
    expect(pickMatchup(candidates, sequence(...(random ?? [0.5])))).toEqual(expected);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])("refuses a weight of %s", (weight) => {
    expect(() => pickMatchup([{ model: "x", weight }, { model: "y", weight: 1 }], Math.random)).toThrow(RangeError);
  });

  it("never pairs a model with itself, and draws pairs as often as their weights say", () => {
    const candidates: ArenaCandidate[] = [
      { model: "x", weight: 1 },
      { model: "y", weight: 2 },
      { model: "z", weight: 3 },
    ];
    const random = mulberry32(7);
    const counts = new Map<string, number>();
    const slotA = new Map<string, number>();
    const draws = 60_000;
    for (let i = 0; i < draws; i++) {
      const m = pickMatchup(candidates, random)!;
      expect(m.a).not.toBe(m.b);
      const pair = [m.a, m.b].sort().join("-");
      counts.set(pair, (counts.get(pair) ?? 0) + 1);
      slotA.set(m.a, (slotA.get(m.a) ?? 0) + 1);
    }
    for (const [x, y] of [["x", "y"], ["x", "z"], ["y", "z"]] as const) {
      expect(counts.get(`${x}-${y}`)! / draws).toBeCloseTo(matchupProbability(candidates, x, y), 2);
    }
    const total = ["x-y", "x-z", "y-z"].reduce((sum, p) => sum + matchupProbability(candidates, p[0]!, p[2]!), 0);
    expect(total).toBeCloseTo(1, 12);
    // The coin flip: the heavy model is on the left about as often as it plays at all, halved.
    const zPlays = counts.get("x-z")! + counts.get("y-z")!;
    expect(slotA.get("z")! / zPlays).toBeCloseTo(0.5, 1);
  });
});

describe("the reveal rule", () => {
  const row = (status: ArenaBattleRow["status"], anonymous: boolean): ArenaBattleRow => ({
    id: "battle_1",
    keyId: "key_1",
    endUser: "",
    conversationA: "conv_a",
    conversationB: "conv_b",
    modelA: "x",
    modelB: "y",
    anonymous,
    status,
    turns: 1,
    createdAt: 1_700_000_000_500,
    updatedAt: 1_700_000_000_500,
  });
  it.each([
    { status: "open", anonymous: true, revealed: false },
    { status: "voted", anonymous: true, revealed: true },
    { status: "failed", anonymous: true, revealed: true },
    { status: "open", anonymous: false, revealed: true },
  ] as const)("$status, anonymous $anonymous: revealed $revealed", ({ status, anonymous, revealed }) => {
    expect(modelsRevealed({ status, anonymous })).toBe(revealed);
    const view = battleView(row(status, anonymous), null);
    expect([view.a.model, view.b.model]).toEqual(revealed ? ["x", "y"] : [null, null]);
    expect(view.created_at).toBe(1_700_000_000);
  });
});
