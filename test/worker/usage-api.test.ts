/**
 * GET /v1/usage and GET /admin/usage through the Worker, against ledger rows written by the same
 * function the chat routes use (finishTurn). Past dates (2001) keep these rows apart from any other
 * test's; "today" rows are written with the real clock.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AdminUsageReport, UsageReport } from "../../wire/usage.js";
import { createApiKey } from "../../workers/auth/key-store.js";
import { usageDay } from "../../workers/db/turn-store.js";
import { call, expectOpenAIError, seedKey, seedUsage } from "./helpers.js";


const DAY_MS = 86_400_000;
const JAN_1_2001 = Date.UTC(2001, 0, 1, 12);

async function record(input: { keyId: string; endUser?: string; model?: string; at: number; prompt: number; completion: number; failed?: boolean }): Promise<void> {
  await seedUsage({
    owner: { keyId: input.keyId, endUser: input.endUser ?? "" },
    model: input.model ?? "vicuna-13b-v1.5",
    usage: { promptTokens: input.prompt, completionTokens: input.completion, failed: input.failed ?? false },
    now: input.at,
  });
}

async function usage(key: string, query = ""): Promise<UsageReport> {
  const res = await call("GET", `/v1/usage${query}`, { key });
  expect(res.status, await res.clone().text()).toBe(200);
  return UsageReport.strict().parse(await res.json());
}

describe("GET /v1/usage", () => {
  it("defaults to today with zero usage, the key's limits and the whole daily allowance left", async () => {
    const { key } = await seedKey("user");
    const report = await usage(key);
    const today = usageDay(Date.now());
    expect(report).toMatchObject({ object: "usage", user: null, start_date: today, end_date: today, data: [] });
    expect(report.totals).toEqual({ requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, failures: 0 });
    expect(report.limits).toEqual({ requests_per_minute: 600, tokens_per_minute: 200_000, max_concurrent: 32, tokens_per_day: 5_000_000 });
    expect(report.today).toEqual({ tokens_used: 0, tokens_remaining: 5_000_000 });
  });

  it("reports the caller's rows per day and model, oldest first, never another key's", async () => {
    const mine = await seedKey("user");
    const other = await seedKey("user");
    await record({ keyId: mine.id, at: JAN_1_2001, prompt: 10, completion: 5 });
    await record({ keyId: mine.id, at: JAN_1_2001 + 1000, prompt: 20, completion: 7, failed: true });
    await record({ keyId: mine.id, model: "other-model", at: JAN_1_2001, prompt: 3, completion: 1 });
    await record({ keyId: mine.id, at: JAN_1_2001 + DAY_MS, prompt: 1, completion: 1 });
    await record({ keyId: mine.id, at: JAN_1_2001 + 5 * DAY_MS, prompt: 100, completion: 100 });
    await record({ keyId: other.id, at: JAN_1_2001, prompt: 999, completion: 999 });

    const report = await usage(mine.key, "?start_date=2001-01-01&end_date=2001-01-02");
    expect(report.data).toEqual([
      { date: "2001-01-01", model: "other-model", requests: 1, prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, failures: 0 },
      { date: "2001-01-01", model: "vicuna-13b-v1.5", requests: 2, prompt_tokens: 30, completion_tokens: 12, total_tokens: 42, failures: 1 },
      { date: "2001-01-02", model: "vicuna-13b-v1.5", requests: 1, prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, failures: 0 },
    ]);
    expect(report.totals).toEqual({ requests: 4, prompt_tokens: 34, completion_tokens: 14, total_tokens: 48, failures: 1 });

    const otherReport = await usage(other.key, "?start_date=2001-01-01&end_date=2001-01-31");
    expect(otherReport.totals.total_tokens).toBe(1998);
  });

  it("narrows a bot key to one end user with `user`, and shows the whole key without it", async () => {
    const bot = await seedKey("bot");
    await record({ keyId: bot.id, endUser: "alice", at: JAN_1_2001, prompt: 10, completion: 10 });
    await record({ keyId: bot.id, endUser: "bob", at: JAN_1_2001, prompt: 1, completion: 2 });
    await record({ keyId: bot.id, endUser: "", at: JAN_1_2001, prompt: 100, completion: 0 });
    const range = "start_date=2001-01-01&end_date=2001-01-01";

    const alice = await usage(bot.key, `?${range}&user=alice`);
    expect(alice.user).toBe("alice");
    expect(alice.totals).toMatchObject({ requests: 1, total_tokens: 20 });
    expect(alice.limits).toEqual({ requests_per_minute: 20, tokens_per_minute: 20_000, max_concurrent: 2, tokens_per_day: 200_000 });

    const nobody = await usage(bot.key, `?${range}&user=carol`);
    expect(nobody.totals.requests).toBe(0);

    const whole = await usage(bot.key, `?${range}`);
    expect(whole.user).toBeNull();
    expect(whole.totals).toMatchObject({ requests: 3, total_tokens: 123 });
    expect(whole.data).toHaveLength(1);
    expect(whole.limits.end_user).toEqual({ requests_per_minute: 20, tokens_per_minute: 20_000, max_concurrent: 2, tokens_per_day: 200_000 });
  });

  it("treats `user` as a label for a user key: it reports the whole key", async () => {
    const mine = await seedKey("user");
    await record({ keyId: mine.id, at: Date.now(), prompt: 4, completion: 4 });
    const yesterday = usageDay(Date.now() - DAY_MS);
    const report = await usage(mine.key, `?start_date=${yesterday}&user=someone-else`);
    expect(report.user).toBeNull();
    expect(report.end_date).toBe(usageDay(Date.now()));
    expect(report.totals.total_tokens).toBe(8);
  });

  it("counts today's tokens against the scope's daily quota, with the key's override", async () => {
    const { row, plaintext } = await createApiKey(env.DB, { name: "quota", role: "bot", limits: JSON.stringify({ tokens_per_day: 1000, end_user: { tokens_per_day: 50 } }) });
    await record({ keyId: row.id, endUser: "dana", at: Date.now(), prompt: 30, completion: 10 });
    await record({ keyId: row.id, endUser: "erin", at: Date.now(), prompt: 300, completion: 0 });
    expect((await usage(plaintext, "?user=dana")).today).toEqual({ tokens_used: 40, tokens_remaining: 10 });
    expect((await usage(plaintext, "?user=erin")).today).toEqual({ tokens_used: 300, tokens_remaining: 0 });
    expect((await usage(plaintext)).today).toEqual({ tokens_used: 340, tokens_remaining: 660 });
  });

  it("reports an unlimited daily quota as null remaining", async () => {
    const { plaintext } = await createApiKey(env.DB, { name: "unlimited", role: "user", limits: JSON.stringify({ tokens_per_day: null }) });
    expect((await usage(plaintext)).today.tokens_remaining).toBeNull();
  });

  it.each([
    ["a malformed date", "?start_date=2001-1-1", "start_date", "invalid_value"],
    ["an impossible date", "?end_date=2001-02-30", "end_date", "invalid_value"],
    ["start after end", "?start_date=2001-01-05&end_date=2001-01-04", "start_date", "invalid_value"],
    ["a range over 366 days", "?start_date=2000-01-01&end_date=2001-01-01", "start_date", "invalid_value"],
    ["an unknown parameter", "?group_by=user", "group_by", "unsupported_parameter"],
    ["an over-long user", `?user=${"u".repeat(257)}`, "user", "invalid_value"],
  ])("rejects %s with 400 naming the parameter", async (_name, query, param, code) => {
    const { key } = await seedKey("bot");
    const err = await expectOpenAIError(await call("GET", `/v1/usage${query}`, { key }), 400, code);
    expect(err.param).toBe(param);
  });
});

describe("GET /admin/usage", () => {
  it("shows every key's rows per key, day and model, filterable by key_id, paged by limit", async () => {
    const a = await seedKey("user");
    const b = await seedKey("bot");
    const at = Date.UTC(2001, 5, 10, 8);
    await record({ keyId: a.id, at, prompt: 1, completion: 1 });
    await record({ keyId: b.id, endUser: "x", at, prompt: 2, completion: 2 });
    await record({ keyId: b.id, endUser: "y", at, prompt: 3, completion: 3 });
    const range = "start_date=2001-06-10&end_date=2001-06-10";

    const all = AdminUsageReport.strict().parse(await (await call("GET", `/admin/usage?${range}`)).json());
    const mineOnly = all.data.filter((r) => r.key_id === a.id || r.key_id === b.id);
    expect(mineOnly).toHaveLength(2);
    expect(all.data.find((r) => r.key_id === b.id)).toMatchObject({ requests: 2, total_tokens: 10, date: "2001-06-10" });

    const one = AdminUsageReport.strict().parse(await (await call("GET", `/admin/usage?${range}&key_id=${b.id}`)).json());
    expect(one).toMatchObject({ key_id: b.id, has_more: false, totals: { requests: 2, total_tokens: 10 } });

    const paged = AdminUsageReport.strict().parse(await (await call("GET", `/admin/usage?${range}&limit=1`)).json());
    expect(paged.data).toHaveLength(1);
    expect(paged.has_more).toBe(true);
    expect(paged.totals.requests).toBeGreaterThanOrEqual(3);
  });

  it.each(["user", "bot"] as const)("is refused to a %s key with 403", async (role) => {
    const { key } = await seedKey(role);
    await expectOpenAIError(await call("GET", "/admin/usage", { key }), 403, "forbidden");
  });

  it("rejects a bad limit with 400", async () => {
    await expectOpenAIError(await call("GET", "/admin/usage?limit=0"), 400, "invalid_value");
  });
});
