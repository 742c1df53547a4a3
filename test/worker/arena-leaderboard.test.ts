/**
 * The leaderboard's schedule inside workerd against real D1: the cron trigger refits and stores
 * it, a read serves the stored fit while it is fresh (votes cast since do not show) and refits
 * once it is older than its max age, named battles' votes are stored but never rated.
 */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../workers/index.js";
import type { ArenaLeaderboard } from "../../wire/arena.js";
import type { Env } from "../../workers/env.js";

const MODELS = JSON.stringify(
  ["vicuna-13b-v1.5", "vicuna-7b-v1.5"].map((id) => ({ id, template: "vicuna_v1.1", contextLength: 2048, defaultMaxTokens: 16, arena: { identityWords: ["vicuna"] } })),
);
const testEnv: Env = { ...env, MODELS };

let nextVote = 0;

/** Stores votes as the vote route does, without battles (the fit reads only this table). */
async function seedVotes(winners: readonly ("a" | "b" | "tie")[], options: { anonymous?: boolean; leaked?: boolean } = {}): Promise<void> {
  const now = Date.now();
  await env.DB.batch(
    winners.map((winner) =>
      env.DB.prepare(
        `INSERT INTO arena_votes (battle_id, model_a, model_b, winner, turns, voter_hash, anonymous, identity_leaked, voted_at)
         VALUES (?1, 'vicuna-13b-v1.5', 'vicuna-7b-v1.5', ?2, 1, ?3, ?4, ?5, ?6)`,
      ).bind(`battle_seed${nextVote++}`, winner, `voter${nextVote}`, options.anonymous === false ? 0 : 1, options.leaked ? 1 : 0, now),
    ),
  );
}

async function readBoard(e: Env = testEnv): Promise<ArenaLeaderboard> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request("https://gateway.test/v1/leaderboard"), e, ctx);
  await waitOnExecutionContext(ctx);
  expect(res.status).toBe(200);
  // Test-side parse of the gateway's own typed response.
  return (await res.json()) as ArenaLeaderboard;
}

async function storedAt(): Promise<number | null> {
  const row = await env.DB.prepare("SELECT computed_at AS computedAt FROM arena_leaderboard WHERE id = 1").first<{ computedAt: number }>();
  return row?.computedAt ?? null;
}

beforeEach(async () => {
  await env.DB.batch([env.DB.prepare("DELETE FROM arena_votes"), env.DB.prepare("DELETE FROM arena_leaderboard"), env.DB.prepare("DELETE FROM eval_runs")]);
});

describe("the arena leaderboard's schedule", () => {
  it("the cron trigger refits from the stored votes and stores the result", async () => {
    await seedVotes(["a", "a", "a", "b"]);
    expect(await storedAt()).toBeNull();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/10 * * * *" }), testEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(await storedAt()).not.toBeNull();
    const board = await readBoard();
    expect(board.votes_counted).toBe(4);
    expect(board.models[0]).toMatchObject({ model: "vicuna-13b-v1.5", wins: 3, losses: 1, battles: 4 });
    // 3 wins in 4 is odds of 3: 400·log10(3) ≈ 191 points apart, the prior pulling it in a little.
    const gap = board.models[0]!.rating - board.models[1]!.rating;
    expect(gap).toBeGreaterThan(180);
    expect(gap).toBeLessThan(192);
  });

  it("a fresh stored leaderboard is served as it is; a stale one is refitted on read", async () => {
    await seedVotes(["a", "b"]);
    const first = await readBoard();
    expect(first.votes_counted).toBe(2);
    await seedVotes(["a", "a"]);
    // Within ARENA_LEADERBOARD_MAX_AGE_SECONDS (600 in wrangler.toml): the stored fit, not a new one.
    expect((await readBoard()).votes_counted).toBe(2);
    const refitted = await readBoard({ ...testEnv, ARENA_LEADERBOARD_MAX_AGE_SECONDS: "0" });
    expect(refitted.votes_counted).toBe(4);
  });

  it("rates only blind votes: named battles and leaked answers are left out", async () => {
    await seedVotes(["a", "b"]);
    await seedVotes(["a", "a", "a"], { anonymous: false });
    await seedVotes(["b"], { leaked: true });
    const board = await readBoard();
    expect(board).toMatchObject({ votes_total: 3, votes_counted: 2, votes_dropped: { identity_leak: 1, voter_cap: 0 } });
    expect(board.models.map((m) => m.battles)).toEqual([2, 2]);
  });

  it("shows the latest recorded evaluation run's judge scores beside the votes", async () => {
    await seedVotes(["a", "b"]);
    const results = (score13: number) =>
      JSON.stringify({
        mode: "single",
        judge_model: "gpt-4o",
        models: { "vicuna-13b-v1.5": { score: score13, categories: {}, turns: [score13, score13], unparsed: 0 }, "vicuna-7b-v1.5": { score: null, categories: {}, turns: [null, null], unparsed: 4 } },
        pairwise: {},
      });
    await env.DB.batch([
      env.DB.prepare("INSERT INTO eval_runs (id, created_at, question_set, question_count, mode, judge_model, results) VALUES ('eval_old', 1000, 'old.jsonl', 10, 'single', 'gpt-4o', ?1)").bind(results(5)),
      env.DB.prepare("INSERT INTO eval_runs (id, created_at, question_set, question_count, mode, judge_model, results) VALUES ('eval_new', 2000, 'new.jsonl', 80, 'single', 'gpt-4o', ?1)").bind(results(7.5)),
    ]);
    const board = await readBoard();
    expect(board.judge).toEqual({
      run_id: "eval_new",
      recorded_at: 2,
      judge_model: "gpt-4o",
      mode: "single",
      question_set: "new.jsonl",
      question_count: 80,
      scores: { "vicuna-13b-v1.5": 7.5, "vicuna-7b-v1.5": null },
    });
  });

  it("with no votes, an empty board", async () => {
    const board = await readBoard();
    expect(board).toMatchObject({ votes_total: 0, votes_counted: 0, models: [], anchor: { kind: "mean", rating: 1000 }, judge: null });
    expect(board.bootstrap.rounds).toBeGreaterThanOrEqual(100);
  });
});
