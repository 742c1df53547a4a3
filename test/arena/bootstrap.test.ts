import { describe, expect, it } from "vitest";
import { bootstrapRatings, mulberry32 } from "../../workers/arena/bootstrap.js";
import { battles, shuffled, simulatedVotes } from "./votes.js";

const TRUTH = { a: 1150, b: 1050, c: 1000, d: 900 };

describe("mulberry32", () => {
  it("is reproducible from its seed, differs between seeds, and stays in [0, 1)", () => {
    const first = Array.from({ length: 5 }, mulberry32(1));
    expect(Array.from({ length: 5 }, mulberry32(1))).toEqual(first);
    expect(Array.from({ length: 5 }, mulberry32(2))).not.toEqual(first);
    const random = mulberry32(123);
    let sum = 0;
    let outside = 0;
    for (let k = 0; k < 100_000; k++) {
      const u = random();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
    }
    expect(outside).toBe(0);
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });
});

describe("bootstrap confidence intervals", () => {
  const votes = simulatedVotes(TRUTH, 3_000, 11, 0.1);

  it("contains every point estimate", () => {
    const result = bootstrapRatings(votes, { seed: 1 });
    expect(result.rounds).toBe(100);
    expect(result.unconvergedRounds).toBe(0);
    for (const interval of result.intervals) {
      expect(interval.low).toBeLessThan(interval.rating);
      expect(interval.high).toBeGreaterThan(interval.rating);
    }
  });

  it("gives the same intervals for the same seed, whatever the vote order, and others for another seed", () => {
    const one = bootstrapRatings(votes, { seed: 9 });
    expect(bootstrapRatings(shuffled(votes, 4), { seed: 9 }).intervals).toEqual(one.intervals);
    expect(bootstrapRatings(votes, { seed: 10 }).intervals).not.toEqual(one.intervals);
  });

  it("narrows as votes grow (about 1/√n: 16× the votes, a quarter of the width)", () => {
    const width = (n: number): number => {
      const r = bootstrapRatings(simulatedVotes(TRUTH, n, 21), { seed: 3, rounds: 200 });
      return r.intervals.reduce((s, i) => s + (i.high - i.low), 0) / r.intervals.length;
    };
    const small = width(1_000);
    const large = width(16_000);
    expect(large).toBeLessThan(small / 2.5);
    expect(large).toBeGreaterThan(small / 6);
  });

  it("covers the true gaps it was simulated from", () => {
    const result = bootstrapRatings(simulatedVotes(TRUTH, 8_000, 5), { seed: 2 });
    const meanTruth = (1150 + 1050 + 1000 + 900) / 4;
    for (const interval of result.intervals) {
      const truth = TRUTH[interval.model as keyof typeof TRUTH] - meanTruth + 1000;
      expect(truth).toBeGreaterThan(interval.low - 5);
      expect(truth).toBeLessThan(interval.high + 5);
    }
  });

  it("collapses the anchor model's interval onto its rating", () => {
    const result = bootstrapRatings(votes, { anchor: { model: "c", rating: 1000 } });
    const c = result.intervals.find((i) => i.model === "c")!;
    expect([c.low, c.rating, c.high]).toEqual([1000, 1000, 1000]);
  });

  it("stays finite for a model with no losses", () => {
    const result = bootstrapRatings([...battles("champ", "b", { a: 12 }), ...battles("b", "c", { a: 8, b: 8 })]);
    for (const i of result.intervals) expect([i.low, i.high].every(Number.isFinite)).toBe(true);
    const champ = result.intervals.find((i) => i.model === "champ")!;
    expect(champ.low).toBeGreaterThan(result.intervals.find((i) => i.model === "b")!.high);
  });

  it("refuses fewer than 100 rounds and a non-integer seed", () => {
    expect(() => bootstrapRatings(votes, { rounds: 99 })).toThrow(RangeError);
    expect(() => bootstrapRatings(votes, { seed: 0.5 })).toThrow(RangeError);
  });
});
