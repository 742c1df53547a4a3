import { describe, expect, it } from "vitest";
import {
  aggregateVotes,
  DEFAULT_PRIOR_STRENGTH,
  expectedScore,
  fitBradleyTerry,
  type ArenaVote,
  type BradleyTerryFit,
} from "../../workers/arena/bradley-terry.js";
import { battles, shuffled, simulatedVotes } from "./votes.js";

const rating = (fit: BradleyTerryFit, model: string): number => {
  const i = fit.models.indexOf(model);
  if (i < 0) throw new Error(`no ${model} in the fit`);
  return fit.ratings[i]!;
};

/** Votes whose win shares are the given probabilities, `perPair` battles per pair, rounded to whole votes. */
function votesWithProbabilities(pairs: readonly [string, string, number][], perPair: number): ArenaVote[] {
  return pairs.flatMap(([a, b, pA]) => {
    const winsA = Math.round(pA * perPair);
    return battles(a, b, { a: winsA, b: perPair - winsA });
  });
}

describe("Bradley–Terry fit: rating gaps from known win rates", () => {
  const LOG10_3 = 400 * Math.log10(3); // 190.85

  it.each([
    { label: "75 % of 100 battles", a: 75, b: 25, gap: LOG10_3 },
    { label: "75 % of 4,000 battles", a: 3000, b: 1000, gap: LOG10_3 },
    { label: "90 % of 1,000 battles", a: 900, b: 100, gap: 400 * Math.log10(9) },
    { label: "50 %", a: 500, b: 500, gap: 0 },
    { label: "25 % (the other way round)", a: 250, b: 750, gap: -LOG10_3 },
    { label: "99 % of 10,000", a: 9900, b: 100, gap: 400 * Math.log10(99) },
  ])("$label → gap $gap ± 2", ({ a, b, gap }) => {
    const fit = fitBradleyTerry(battles("x", "y", { a, b }));
    expect(fit.converged).toBe(true);
    expect(rating(fit, "x") - rating(fit, "y")).toBeCloseTo(gap, 0);
    expect(Math.abs(rating(fit, "x") - rating(fit, "y") - gap)).toBeLessThan(2);
  });

  it("recovers the gaps among four models from exact win probabilities", () => {
    const truth: Record<string, number> = { alpha: 1250, beta: 1100, gamma: 1000, delta: 800 };
    const names = Object.keys(truth);
    const pairs: [string, string, number][] = [];
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) pairs.push([names[i]!, names[j]!, expectedScore(truth[names[i]!]!, truth[names[j]!]!)]);
    }
    const fit = fitBradleyTerry(votesWithProbabilities(pairs, 20_000));
    for (const x of names) {
      for (const y of names) expect(Math.abs(rating(fit, x) - rating(fit, y) - (truth[x]! - truth[y]!))).toBeLessThan(2);
    }
  });

  it("recovers a chain's gaps when not every pair met (a–b and b–c only)", () => {
    // 75 % a over b and 75 % b over c imply a ≈ c + 381 through b alone.
    const fit = fitBradleyTerry([...battles("a", "b", { a: 750, b: 250 }), ...battles("b", "c", { a: 750, b: 250 })]);
    expect(Math.abs(rating(fit, "a") - rating(fit, "c") - 2 * LOG10_3)).toBeLessThan(2);
  });

  it("recovers simulated ratings of ten models from 50,000 random votes within 20 points", () => {
    const truth = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`m${i}`, 800 + 50 * i]));
    const fit = fitBradleyTerry(simulatedVotes(truth, 50_000, 7));
    const meanTruth = 1025;
    for (const [model, r] of Object.entries(truth)) expect(Math.abs(rating(fit, model) - (r - meanTruth + 1000))).toBeLessThan(20);
  });
});

describe("Bradley–Terry fit: invariants", () => {
  it("gives equal ratings to symmetric data", () => {
    const votes = [
      ...battles("a", "b", { a: 30, b: 30, tie: 4 }),
      ...battles("b", "c", { a: 12, b: 12 }),
      ...battles("c", "a", { a: 7, b: 7, bothbad: 2 }),
    ];
    const fit = fitBradleyTerry(votes);
    for (const r of fit.ratings) expect(r).toBeCloseTo(1000, 9);
  });

  it("keeps a model with no losses finite and above the rest", () => {
    const votes = [...battles("champ", "b", { a: 20 }), ...battles("c", "champ", { b: 15 }), ...battles("b", "c", { a: 30, b: 20 })];
    const fit = fitBradleyTerry(votes);
    expect(fit.converged).toBe(true);
    for (const r of fit.ratings) expect(Number.isFinite(r)).toBe(true);
    expect(rating(fit, "champ")).toBeGreaterThan(rating(fit, "b"));
    expect(rating(fit, "b")).toBeGreaterThan(rating(fit, "c"));
    expect(rating(fit, "champ") - rating(fit, "c")).toBeLessThan(3000);
  });

  it("keeps a model that only lost finite and below the rest", () => {
    const fit = fitBradleyTerry([...battles("a", "b", { a: 10, b: 10 }), ...battles("loser", "a", { b: 40 })]);
    for (const r of fit.ratings) expect(Number.isFinite(r)).toBe(true);
    expect(rating(fit, "loser")).toBeLessThan(rating(fit, "b"));
  });

  it("gives the same ratings, bit for bit, whatever the vote order and slot order", () => {
    const votes = simulatedVotes({ a: 1100, b: 1000, c: 950, d: 900, e: 1200 }, 5_000, 3, 0.1);
    const base = fitBradleyTerry(votes);
    for (const seed of [1, 2, 3]) expect(fitBradleyTerry(shuffled(votes, seed)).ratings).toEqual(base.ratings);
    // The same battles with slots A and B swapped are the same evidence.
    const swapped = votes.map((v): ArenaVote => ({ modelA: v.modelB, modelB: v.modelA, winner: v.winner === "a" ? "b" : v.winner === "b" ? "a" : v.winner }));
    const fitSwapped = fitBradleyTerry(swapped);
    for (let i = 0; i < base.ratings.length; i++) expect(Math.abs(fitSwapped.ratings[i]! - base.ratings[i]!)).toBeLessThan(1e-9);
  });

  it("holds the mean anchor at 1000 by default, and a named anchor exactly", () => {
    const votes = simulatedVotes({ a: 1100, b: 1000, c: 900 }, 2_000, 5);
    const byMean = fitBradleyTerry(votes);
    expect(byMean.anchor).toEqual({ kind: "mean", rating: 1000 });
    expect(byMean.ratings.reduce((s, r) => s + r, 0) / 3).toBeCloseTo(1000, 9);

    const byModel = fitBradleyTerry(votes, { anchor: { model: "b", rating: 1114 } });
    expect(byModel.anchor).toEqual({ kind: "model", model: "b", rating: 1114 });
    expect(rating(byModel, "b")).toBe(1114);
    // Anchoring only shifts: every gap is unchanged.
    expect(rating(byModel, "a") - rating(byModel, "c")).toBeCloseTo(rating(byMean, "a") - rating(byMean, "c"), 9);

    const customMean = fitBradleyTerry(votes, { meanRating: 1500 });
    expect(customMean.ratings.reduce((s, r) => s + r, 0) / 3).toBeCloseTo(1500, 9);
  });

  it("falls back to the mean anchor, and says so, when the anchor model has no votes", () => {
    const fit = fitBradleyTerry(battles("a", "b", { a: 3, b: 1 }), { anchor: { model: "absent", rating: 1200 } });
    expect(fit.anchor).toEqual({ kind: "mean", rating: 1000 });
    expect((fit.ratings[0]! + fit.ratings[1]!) / 2).toBeCloseTo(1000, 9);
  });

  it.each([
    { label: "tie", counts: { a: 60, b: 20, tie: 40 } },
    { label: "bothbad", counts: { a: 60, b: 20, bothbad: 40 } },
  ])("counts a $label as half a win each way", ({ counts }) => {
    // 60 + 20 + 40 battles with 40 ties = a scores 80 of 120, the same as 80 wins and 40 losses.
    const withTies = fitBradleyTerry(battles("a", "b", counts));
    const halves = fitBradleyTerry(battles("a", "b", { a: 80, b: 40 }));
    expect(withTies.ratings).toEqual(halves.ratings);
    expect(withTies.ratings[0]! - withTies.ratings[1]!).toBeCloseTo(400 * Math.log10(2), 1);
  });

  it("barely moves ratings with real data: the prior shifts a 75 % gap over 1,000 battles by < 0.01 points", () => {
    const votes = battles("a", "b", { a: 750, b: 250 });
    const withPrior = fitBradleyTerry(votes);
    const almostNone = fitBradleyTerry(votes, { priorStrength: 1e-9 });
    expect(DEFAULT_PRIOR_STRENGTH).toBe(0.01);
    expect(Math.abs(withPrior.ratings[0]! - almostNone.ratings[0]!)).toBeLessThan(0.01);
    expect(almostNone.ratings[0]! - almostNone.ratings[1]!).toBeCloseTo(400 * Math.log10(3), 4);
  });

  it("handles no votes, and models that never met anyone's opponents (two separate groups)", () => {
    expect(fitBradleyTerry([])).toMatchObject({ models: [], converged: true });
    const fit = fitBradleyTerry([...battles("a", "b", { a: 3, b: 1 }), ...battles("c", "d", { a: 1, b: 3 })]);
    expect(fit.converged).toBe(true);
    expect(rating(fit, "a") - rating(fit, "b")).toBeCloseTo(rating(fit, "d") - rating(fit, "c"), 9);
  });

  it("rejects a vote of a model against itself, and a prior that is not positive", () => {
    expect(() => fitBradleyTerry([{ modelA: "a", modelB: "a", winner: "a" }])).toThrow(/against itself/);
    expect(() => fitBradleyTerry(battles("a", "b", { a: 1 }), { priorStrength: 0 })).toThrow(RangeError);
  });

  it("aggregates into a name-sorted pair matrix with ties kept apart", () => {
    const counts = aggregateVotes([...battles("zeta", "alpha", { a: 2, b: 1, tie: 1, bothbad: 1 })]);
    expect(counts.models).toEqual(["alpha", "zeta"]);
    // alpha: 1 win + 2 ties / 2; zeta: 2 wins + 1.
    expect([...counts.score]).toEqual([0, 2, 3, 0]);
    expect([...counts.battles]).toEqual([0, 5, 5, 0]);
    expect([...counts.ties]).toEqual([0, 2, 2, 0]);
  });
});
