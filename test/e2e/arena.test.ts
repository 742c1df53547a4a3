/**
 * The arena through the real stack: two simulated pool models in the arena (and a third that has
 * no GPU worker), battles non-streamed and streamed, names hidden until the vote, one vote per
 * battle, a failed side, limits charging two generations, and the leaderboard with its filters.
 */
import { createParser } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  ArenaBattle,
  ArenaBattleWithMessages,
  ArenaLeaderboard,
  ArenaStreamEvent,
  ArenaTurnResult,
} from "../../wire/arena.js";
import { startStack, type Stack } from "../../scripts/stack.js";

const M13 = "vicuna-13b-v1.5";
const M7 = "vicuna-7b-v1.5";
// In the arena too, but no worker serves it: it must never be drawn.
const DOWN = "vicuna-33b-v1.3";
const entry = (id: string) => ({ id, template: "vicuna_v1.1", contextLength: 2048, defaultMaxTokens: 24, arena: { weight: 1, identityWords: ["vicuna"] } });
// Out of the arena, served by one slow worker: named battles whose turns take a while.
const SLOW = "vicuna-slow";
const MODELS = JSON.stringify([entry(M13), entry(M7), entry(DOWN), { id: SLOW, template: "vicuna_v1.1", contextLength: 2048, defaultMaxTokens: 40 }]);
const VOTER_CAP = 3;

let stack: Stack;
let botKey: string;

beforeAll(async () => {
  stack = await startStack({
    sims: 1,
    models: [M13, M7],
    sim: { reply: "echo", fast: true },
    vars: { MODELS, ARENA_MAX_VOTES_PER_VOTER_PER_DAY: String(VOTER_CAP) },
  });
  botKey = await stack.createKey("bot", "arena bot");
  await stack.addWorker("sim-slow", { model: SLOW, fast: false, reply: "lorem", replyLength: "max", ttftBaseMs: 50, itlMs: 15, itlJitterMs: 0 });
  await stack.waitForReady(["sim-slow"]);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

function call(method: string, path: string, body?: unknown, key: string | null = stack.userKey): Promise<Response> {
  return fetch(`${stack.url}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  // Test-side parse of the gateway's own typed response.
  return JSON.parse(text) as T;
}

async function errorOf(res: Response): Promise<{ status: number; code: string | null; message: string }> {
  const body = (await res.json()) as { error: { code: string | null; message: string } };
  return { status: res.status, code: body.error.code, message: body.error.message };
}

const battle = (body: Record<string, unknown>, key?: string) => call("POST", "/v1/arena/battles", body, key);
const vote = (id: string, body: Record<string, unknown>, key?: string) => call("POST", `/v1/arena/battles/${id}/vote`, body, key);

/** A streamed battle turn's events, in order (without the closing [DONE], which is checked). */
async function streamedEvents(res: Response): Promise<ArenaStreamEvent[]> {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const events: ArenaStreamEvent[] = [];
  let done = false;
  const parser = createParser({
    onEvent(event) {
      if (event.data === "[DONE]") done = true;
      // Test-side parse of the gateway's own typed events.
      else events.push(JSON.parse(event.data) as ArenaStreamEvent);
    },
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) parser.feed(read.value);
  expect(done).toBe(true);
  return events;
}

describe("arena battles", () => {
  let first: ArenaTurnResult;

  it("answers one question from two different anonymous models, both stored", async () => {
    first = await json<ArenaTurnResult>(await battle({ content: "Which is taller, a llama or an alpaca?" }), 200);
    expect(first.object).toBe("arena.battle");
    expect(first).toMatchObject({ status: "open", anonymous: true, turns: 1, vote: null });
    expect(first.a.model).toBeNull();
    expect(first.b.model).toBeNull();
    for (const reply of [first.replies.a, first.replies.b]) {
      expect(reply.status).toBe("complete");
      expect(reply.content).toContain("llama");
      expect(reply.message_id).toMatch(/^msg_/);
      expect(reply.usage?.completion_tokens).toBeGreaterThan(0);
    }
    const read = await json<ArenaBattleWithMessages>(await call("GET", `/v1/arena/battles/${first.id}`), 200);
    expect(read.messages.a.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(read.messages.b[1]!.content).toBe(first.replies.b.content);
  });

  it("does not name the models anywhere before the vote", async () => {
    const read = await call("GET", `/v1/arena/battles/${first.id}`);
    const text = await read.text();
    expect(text).not.toContain(M13);
    expect(text).not.toContain(M7);
    // The sides' conversations would name their models: hidden until the vote.
    for (const id of [first.a.conversation_id, first.b.conversation_id]) {
      expect((await errorOf(await call("GET", `/v1/conversations/${id}`))).code).toBe("conversation_not_found");
      expect((await errorOf(await call("POST", `/v1/conversations/${id}/messages`, { content: "which model are you?" }))).code).toBe("conversation_not_found");
      expect((await errorOf(await call("POST", `/v1/conversations/${id}/share`))).status).toBe(404);
    }
    const list = await (await call("GET", "/v1/conversations?limit=100")).text();
    expect(list).not.toContain(first.a.conversation_id);
  });

  it("takes one vote, which reveals both models, and refuses a second", async () => {
    const voted = await json<ArenaBattle>(await vote(first.id, { winner: "a" }), 200);
    expect(voted.status).toBe("voted");
    expect(voted.vote?.winner).toBe("a");
    expect(new Set([voted.a.model, voted.b.model])).toEqual(new Set([M13, M7]));
    const again = await errorOf(await vote(first.id, { winner: "b" }));
    expect(again).toMatchObject({ status: 409, code: "already_voted" });
    // The vote stands as cast; the battle is closed to new turns.
    expect((await json<ArenaBattle>(await call("GET", `/v1/arena/battles/${first.id}`), 200)).vote?.winner).toBe("a");
    expect((await errorOf(await call("POST", `/v1/arena/battles/${first.id}/turns`, { content: "more?" }))).code).toBe("already_voted");
    // Each side is now an ordinary conversation of the caller, under its model's name.
    const side = await json<{ model: string; messages: unknown[] }>(await call("GET", `/v1/conversations/${voted.a.conversation_id}`), 200);
    expect(side.model).toBe(voted.a.model);
    expect(side.messages).toHaveLength(2);
  });

  it("streams both sides in one stream, and a follow-up turn continues both", async () => {
    const events = await streamedEvents(await battle({ content: "Name three Andean animals.", stream: true }));
    expect(events[0]).toMatchObject({ type: "battle", battle: { status: "open", turns: 0, a: { model: null }, b: { model: null } } });
    const deltas = (slot: "a" | "b") => events.filter((e) => e.type === "delta" && e.slot === slot);
    expect(deltas("a").length).toBeGreaterThan(1);
    expect(deltas("b").length).toBeGreaterThan(1);
    const replies = events.filter((e) => e.type === "reply");
    expect(replies.map((e) => e.type === "reply" && e.reply.status)).toEqual(["complete", "complete"]);
    const last = events[events.length - 1]!;
    expect(last).toMatchObject({ type: "battle", battle: { status: "open", turns: 1 } });
    const id = last.type === "battle" ? last.battle.id : "";
    // Deltas add up to the stored reply.
    const stored = await json<ArenaBattleWithMessages>(await call("GET", `/v1/arena/battles/${id}`), 200);
    expect(deltas("a").map((e) => (e.type === "delta" ? e.content : "")).join("")).toBe(stored.messages.a[1]!.content);

    const second = await streamedEvents(await call("POST", `/v1/arena/battles/${id}/turns`, { content: "And three birds?", stream: true }));
    expect(second[second.length - 1]).toMatchObject({ type: "battle", battle: { turns: 2, a: { model: null } } });
    const after = await json<ArenaBattleWithMessages>(await call("GET", `/v1/arena/battles/${id}`), 200);
    expect(after.messages.a.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(after.messages.b[3]!.content).toContain("birds");
    const voted = await json<ArenaBattle>(await vote(id, { winner: "tie" }), 200);
    expect(voted.a.model).not.toBe(voted.b.model);
  });

  it("never draws a model that no worker serves", async () => {
    const drawn = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const result = await json<ArenaTurnResult>(await battle({ content: `question ${i}`, max_tokens: 4 }), 200);
      const voted = await json<ArenaBattle>(await vote(result.id, { winner: "bothbad" }), 200);
      drawn.add(voted.a.model!).add(voted.b.model!);
    }
    expect([...drawn].sort()).toEqual([M13, M7].sort());
  });

  it("a named battle shows its models, and a side that fails ends it unvotable", async () => {
    const named = await json<ArenaTurnResult>(await battle({ content: "hello", models: [M7, DOWN] }), 200);
    expect(named.anonymous).toBe(false);
    expect(named.replies.a.status).toBe("complete");
    expect(named.replies.b).toMatchObject({ status: "failed", message_id: null, error: { code: "no_workers" } });
    expect(named).toMatchObject({ status: "failed", a: { model: M7 }, b: { model: DOWN } });
    expect(await errorOf(await vote(named.id, { winner: "a" }))).toMatchObject({ status: 409, code: "battle_not_votable" });
  });

  it("refuses a vote while a turn is being answered, and takes it once both answers ended", async () => {
    const started = await battle({ content: "slowly, please", models: [SLOW, M7], stream: true });
    expect(started.status).toBe(200);
    const id = started.headers.get("x-arena-battle-id")!;
    expect(await errorOf(await vote(id, { winner: "a" }))).toMatchObject({ status: 409, code: "battle_busy" });
    const events = await streamedEvents(started);
    expect(events[events.length - 1]).toMatchObject({ type: "battle", battle: { status: "open", turns: 1, a: { model: SLOW } } });

    const second = await call("POST", `/v1/arena/battles/${id}/turns`, { content: "again, slowly", stream: true });
    expect(second.status).toBe(200);
    expect(await errorOf(await vote(id, { winner: "b" }))).toMatchObject({ status: 409, code: "battle_busy" });
    await streamedEvents(second);
    const voted = await json<ArenaBattle>(await vote(id, { winner: "b" }), 200);
    expect(voted).toMatchObject({ status: "voted", anonymous: false, turns: 2, vote: { winner: "b" } });
  });

  it("refuses what cannot be a battle with the API's error shape", async () => {
    expect(await errorOf(await battle({ content: "hi", models: [M7, M7] }))).toMatchObject({ status: 400, code: "same_model_twice" });
    expect(await errorOf(await battle({ content: "hi", models: [M7, "gpt-9"] }))).toMatchObject({ status: 404, code: "model_not_found" });
    expect((await errorOf(await battle({ content: "" }))).status).toBe(400);
    expect((await errorOf(await battle({ content: "hi", temperature: 7 }))).status).toBe(400);
    expect((await errorOf(await vote(first.id, { winner: "c" }))).status).toBe(400);
    expect(await errorOf(await vote("battle_nope", { winner: "a" }))).toMatchObject({ status: 404, code: "battle_not_found" });
    expect((await errorOf(await call("GET", "/v1/arena/battles/../x"))).status).toBe(404);
    expect((await errorOf(await battle({ content: "hi" }, "sk-alt-wrong"))).status).toBe(401);
  });

  it("a battle whose question fits neither window is an error, and stores nothing", async () => {
    const res = await battle({ content: "llama ".repeat(3000), system_prompt: "Answer briefly." });
    expect(await errorOf(res)).toMatchObject({ status: 400, code: "context_length_exceeded" });
    expect(res.headers.get("x-arena-battle-id")).toBeNull();
  });

  it("a battle is its end user's own", async () => {
    const mine = await json<ArenaTurnResult>(await battle({ content: "mine", user: "alice" }, botKey), 200);
    expect((await errorOf(await call("GET", `/v1/arena/battles/${mine.id}?user=bob`, undefined, botKey))).code).toBe("battle_not_found");
    expect((await errorOf(await vote(mine.id, { winner: "a", user: "bob" }, botKey))).code).toBe("battle_not_found");
    expect((await json<ArenaBattle>(await vote(mine.id, { winner: "b", user: "alice" }, botKey), 200)).vote?.winner).toBe("b");
  });

  it("costs two generations against the limits, and is refused whole when only one is left", async () => {
    const created = await json<{ key: string }>(
      await call("POST", "/admin/keys", { name: "three a minute", role: "user", limits: { requests_per_minute: 3 } }, stack.adminKey),
      201,
    );
    const ok = await battle({ content: "first", max_tokens: 4 }, created.key);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    const refused = await battle({ content: "second", max_tokens: 4 }, created.key);
    expect(await errorOf(refused)).toMatchObject({ status: 429 });
  });
});

describe("the leaderboard", () => {
  it("is public, rates the voted models, and drops leaked and over-cap votes", async () => {
    // A question the echo model repeats, so its answer names Vicuna: the vote is kept, not rated.
    const leaked = await json<ArenaTurnResult>(await battle({ content: "Say: I am Vicuna.", user: "leaker" }, botKey), 200);
    expect(leaked.replies.a.content).toMatch(/vicuna/i);
    await json<ArenaBattle>(await vote(leaked.id, { winner: "a", user: "leaker" }, botKey), 200);
    // One more voter with more votes in a day than count (the user key, above, has 10).
    for (let i = 0; i < VOTER_CAP + 2; i++) {
      const result = await json<ArenaTurnResult>(await battle({ content: `eager ${i}`, user: "eager", max_tokens: 4 }, botKey), 200);
      await json<ArenaBattle>(await vote(result.id, { winner: "a", user: "eager" }, botKey), 200);
    }
    const board = await json<ArenaLeaderboard>(await call("POST", "/admin/arena/leaderboard", undefined, stack.adminKey), 200);
    // Anonymous votes so far: the user key's 10 (1 + 1 + 8), alice's 1, leaker's 1 and eager's 5;
    // the named battle failed. Over the cap of 3 a day: 7 of the user key's, 2 of eager's.
    expect(board.votes_dropped).toEqual({ identity_leak: 1, voter_cap: 9 });
    expect(board.votes_total).toBe(17);
    expect(board.votes_counted).toBe(7);
    expect(board.models.map((m) => m.model).sort()).toEqual([M13, M7].sort());
    for (const row of board.models) {
      expect(row.battles).toBe(7);
      expect(row.wins + row.losses + row.ties).toBe(row.battles);
      expect(row.rating_low).toBeLessThanOrEqual(row.rating);
      expect(row.rating_high).toBeGreaterThanOrEqual(row.rating);
    }
    expect(board.anchor).toEqual({ kind: "mean", rating: 1000 });
    expect((board.models[0]!.rating + board.models[1]!.rating) / 2).toBeCloseTo(1000, 5);
    expect(board.win_fractions.battles[0]![1]).toBe(7);
    const f = board.win_fractions.fractions;
    expect(f[0]![1]! + f[1]![0]!).toBeCloseTo(1, 3);

    // Served from the stored fit without a key, and not refitted per view.
    const publicRead = await json<ArenaLeaderboard>(await call("GET", "/v1/leaderboard", undefined, null), 200);
    expect(publicRead).toEqual(board);
    expect(JSON.stringify(publicRead)).not.toMatch(/eager|leaker|alice/);
  });

  it("the admin refit is for admins only", async () => {
    expect((await call("POST", "/admin/arena/leaderboard")).status).toBe(403);
  });
});
