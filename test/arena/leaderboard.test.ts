import { describe, expect, it } from "vitest";
import { buildLeaderboard } from "../../workers/arena/leaderboard.js";
import { battles, shuffled, simulatedVotes } from "./votes.js";

describe("buildLeaderboard", () => {
  const votes = [
    ...battles("vicuna", "llama", { a: 30, b: 10, tie: 6, bothbad: 4 }),
    ...battles("llama", "alpaca", { a: 25, b: 15 }),
    ...battles("alpaca", "vicuna", { a: 5, b: 35, tie: 2 }),
  ];
  const board = buildLeaderboard(votes);

  it("lists every model best first with its counts", () => {
    expect(board.rows.map((r) => r.model)).toEqual(["vicuna", "llama", "alpaca"]);
    expect(board.rows.map(({ model, battles, wins, losses, ties }) => ({ model, battles, wins, losses, ties }))).toEqual([
      { model: "vicuna", battles: 92, wins: 65, losses: 15, ties: 12 },
      { model: "llama", battles: 90, wins: 35, losses: 45, ties: 10 },
      { model: "alpaca", battles: 82, wins: 20, losses: 60, ties: 2 },
    ]);
    expect(board.totalVotes).toBe(132);
    expect(board.converged).toBe(true);
  });

  it("brackets each rating by its 95 % interval and anchors the mean at 1000", () => {
    for (const row of board.rows) {
      expect(row.ratingLow).toBeLessThan(row.rating);
      expect(row.ratingHigh).toBeGreaterThan(row.rating);
    }
    expect(board.rows.reduce((s, r) => s + r.rating, 0) / 3).toBeCloseTo(1000, 9);
    expect(board.anchor).toEqual({ kind: "mean", rating: 1000 });
    expect(board.bootstrap).toEqual({ rounds: 100, seed: 42, confidence: 0.95 });
  });

  it("builds the win-fraction matrix in row order, ties counting half, null where no battles", () => {
    const { models, fractions, battles: n } = board.winFractions;
    expect(models).toEqual(["vicuna", "llama", "alpaca"]);
    // vicuna vs llama: (30 + 10 / 2) / 50; vicuna vs alpaca: (35 + 1) / 42.
    expect(fractions[0]).toEqual([null, 35 / 50, 36 / 42]);
    expect(fractions[1]).toEqual([15 / 50, null, 25 / 40]);
    expect(fractions[2]).toEqual([6 / 42, 15 / 40, null]);
    expect(n).toEqual([[0, 50, 42], [50, 0, 40], [42, 40, 0]]);

    const sparse = buildLeaderboard([...battles("a", "b", { a: 2, b: 1 }), ...battles("b", "c", { a: 1 })]);
    const ia = sparse.winFractions.models.indexOf("a");
    const ic = sparse.winFractions.models.indexOf("c");
    expect(sparse.winFractions.fractions[ia]![ic]).toBeNull();
  });

  it("shares a rank among models whose intervals overlap, as Chatbot Arena ranks", () => {
    const clear = buildLeaderboard(simulatedVotes({ top: 1400, mid: 1000, low: 600 }, 3_000, 1));
    expect(clear.rows.map((r) => r.rank)).toEqual([1, 2, 3]);
    const close = buildLeaderboard(battles("x", "y", { a: 11, b: 9 }));
    expect(close.rows.map((r) => r.rank)).toEqual([1, 1]);
  });

  it("is the same for any vote order", () => {
    expect(buildLeaderboard(shuffled(votes, 8))).toEqual(board);
  });

  it("passes the anchor, seed and rounds through", () => {
    const anchored = buildLeaderboard(votes, { anchor: { model: "llama", rating: 1100 }, seed: 7, bootstrapRounds: 150 });
    const llama = anchored.rows.find((r) => r.model === "llama")!;
    expect([llama.rating, llama.ratingLow, llama.ratingHigh]).toEqual([1100, 1100, 1100]);
    expect(anchored.bootstrap).toEqual({ rounds: 150, seed: 7, confidence: 0.95 });
  });

  it("is empty for no votes", () => {
    expect(buildLeaderboard([])).toMatchObject({ rows: [], winFractions: { models: [], fractions: [], battles: [] }, totalVotes: 0 });
  });
});
