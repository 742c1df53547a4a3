/**
 * GET /admin/dashboard/summary inside workerd against real D1 and the real pool object: the
 * pool's replica recommendation, usage and top consumers from the ledger with key names,
 * feedback counts, and the latest eval run and arena rows once they exist.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { DashboardSummary } from "../../wire/dashboard.js";
import { usageDay } from "../../workers/db/turn-store.js";
import type { Env } from "../../workers/env.js";
import worker from "../../workers/index.js";
import { seedConversationWith } from "./conversation-seed.js";
import { ADMIN_KEY, call, registerWorker, seedKey, seedUsage } from "./helpers.js";

const DAY_MS = 86_400_000;
const MODELS = JSON.stringify(
  ["vicuna-13b-v1.5", "vicuna-7b-v1.5"].map((id) => ({ id, template: "vicuna_v1.1", contextLength: 2048, defaultMaxTokens: 16, arena: { identityWords: ["vicuna"] } })),
);
/** Two arena models, and a leaderboard refitted at every read. */
const testEnv: Env = { ...env, MODELS, ARENA_LEADERBOARD_MAX_AGE_SECONDS: "0" };

async function summary(): Promise<DashboardSummary> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request("https://gateway.test/admin/dashboard/summary", { headers: { authorization: `Bearer ${ADMIN_KEY}` } }), testEnv, ctx);
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return DashboardSummary.strict().parse(JSON.parse(text));
}

async function use(keyId: string, endUser: string, tokens: [prompt: number, completion: number], daysAgo = 0): Promise<void> {
  await seedUsage({ owner: { keyId, endUser }, model: "vicuna-13b-v1.5", usage: { promptTokens: tokens[0], completionTokens: tokens[1], failed: false }, now: Date.now() - daysAgo * DAY_MS });
}

beforeEach(async () => {
  await env.DB.batch(
    ["usage_daily", "message_feedback", "arena_votes", "arena_leaderboard", "eval_runs"].map((table) => env.DB.prepare(`DELETE FROM ${table}`)),
  );
});

describe("GET /admin/dashboard/summary", () => {
  it("ranks keys and end users by tokens today and over the week, with key names", async () => {
    const small = await seedKey("user", "small-app");
    const big = await seedKey("bot", "discord-bot");
    await use(small.id, "", [10, 5]);
    await use(big.id, "discord:1", [100, 50]);
    await use(big.id, "discord:2", [30, 20]);
    await use(big.id, "discord:2", [400, 100], 3); // three days ago: in the week, not today

    const { usage } = await summary();
    const today = usageDay(Date.now());
    expect(usage.today).toMatchObject({ start_date: today, end_date: today, active_keys: 2, active_end_users: 2 });
    expect(usage.today.totals).toMatchObject({ requests: 3, prompt_tokens: 140, completion_tokens: 75, total_tokens: 215 });
    expect(usage.today.top_keys.map((k) => [k.key_name, k.total_tokens])).toEqual([
      ["discord-bot", 200],
      ["small-app", 15],
    ]);
    expect(usage.today.top_end_users.map((u) => [u.key_name, u.user, u.total_tokens])).toEqual([
      ["discord-bot", "discord:1", 150],
      ["discord-bot", "discord:2", 50],
    ]);
    expect(usage.week.start_date).toBe(usageDay(Date.now() - 6 * DAY_MS));
    expect(usage.week.top_end_users.map((u) => [u.user, u.total_tokens])).toEqual([
      ["discord:2", 550],
      ["discord:1", 150],
    ]);
    expect(usage.week.totals.total_tokens).toBe(715);
  });

  it("counts feedback all time and over the last day", async () => {
    const { key } = await seedKey("user");
    const conv = await seedConversationWith(key, ["q1", "a1", "q2", "a2", "q3", "a3"]);
    const feedback = [{ rating: "up" }, { rating: "down", flagged: true }, { flagged: true }];
    for (const [i, body] of feedback.entries()) {
      const res = await call("POST", `/v1/conversations/${conv.id}/messages/${conv.messages[2 * i + 1]!.id}/feedback`, { key, body });
      expect(res.status).toBe(200);
    }
    // One old thumbs-up, two days ago: counted in the total only.
    await env.DB.prepare("UPDATE message_feedback SET updated_at = ?1 WHERE rating = 'up'").bind(Date.now() - 2 * DAY_MS).run();
    const { feedback: counts } = await summary();
    expect(counts).toEqual({ total: { up: 1, down: 1, flagged: 2 }, last_day: { up: 0, down: 1, flagged: 2 } });
  });

  it("shows ready workers and desired replicas per model from the pool", async () => {
    await registerWorker(`summary-worker-${Date.now()}`, "http://127.0.0.1:9/summary");
    const { models } = await summary();
    const vicuna = models.find((m) => m.model === "vicuna-13b-v1.5");
    expect(vicuna?.ready_workers).toBeGreaterThanOrEqual(1);
    expect(vicuna?.desired_replicas).toBeGreaterThanOrEqual(1);
  });

  it("has no eval or arena before any is recorded, then the latest run and the top rows", async () => {
    expect(await summary()).toMatchObject({ eval: null, arena: null });

    const record = await call("POST", "/admin/evals", {
      body: {
        question_set: "mt-bench-lite",
        question_count: 8,
        results: {
          mode: "single",
          judge_model: "gpt-4-judge",
          models: {
            "vicuna-13b-v1.5": { score: 6.5, categories: {}, turns: [6.5, null], unparsed: 0 },
            "vicuna-7b-v1.5": { score: 5.25, categories: {}, turns: [5.25, null], unparsed: 0 },
          },
          pairwise: {},
        },
      },
    });
    expect(record.status, await record.clone().text()).toBe(201);
    const run = (await record.json()) as { id: string };
    const now = Date.now();
    await env.DB.batch(
      ["a", "a", "a", "b"].map((winner, i) =>
        env.DB.prepare(
          `INSERT INTO arena_votes (battle_id, model_a, model_b, winner, turns, voter_hash, anonymous, identity_leaked, voted_at)
           VALUES (?1, 'vicuna-13b-v1.5', 'vicuna-7b-v1.5', ?2, 1, ?3, 1, 0, ?4)`,
        ).bind(`battle_summary_${now}_${i}`, winner, `voter_${i}`, now),
      ),
    );

    const body = await summary();
    expect(body.eval).toMatchObject({ run_id: run.id, judge_model: "gpt-4-judge", question_set: "mt-bench-lite", scores: { "vicuna-13b-v1.5": 6.5, "vicuna-7b-v1.5": 5.25 } });
    expect(body.arena?.votes_counted).toBe(4);
    // Best first; with four votes the intervals overlap, so both may share rank 1.
    expect(body.arena?.top.map((row) => [row.model, row.battles])).toEqual([
      ["vicuna-13b-v1.5", 4],
      ["vicuna-7b-v1.5", 4],
    ]);
    expect(body.arena!.top[0]!.rating).toBeGreaterThan(body.arena!.top[1]!.rating);
  });
});
