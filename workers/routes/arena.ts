/**
 * The arena: `/v1/arena/battles` (start a battle, continue it, vote, read it) for callers, the
 * public `/v1/leaderboard`, and `/admin/arena/leaderboard` to refit at once.
 */
import { Hono } from "hono";
import { z } from "zod";
import {
  BattleTurnBody,
  CreateBattleBody,
  VoteBody,
  type ArenaBattleWithMessages,
} from "../../wire/arena.js";
import type { AppEnv } from "../app-env.js";
import { battleIsBusy, battleMessages, castVote, createBattle, getBattle, getVote } from "../arena/battle-store.js";
import { admitBattleTurn, releaseAdmissions, runBattleTurn } from "../arena/battle-turn.js";
import { battleView } from "../arena/battle-view.js";
import { currentLeaderboard, refreshLeaderboard } from "../arena/leaderboard-store.js";
import { mulberry32 } from "../arena/bootstrap.js";
import { pickMatchup, type Matchup } from "../arena/matchmaking.js";
import { createIdentityLeakCheck } from "../arena/vote-filters.js";
import { newId } from "../auth/key-material.js";
import { requireRole } from "../auth/middleware.js";
import { messageTooLong, resolveModel } from "../chat/prepare.js";
import { getConfig, type GatewayConfig } from "../config.js";
import type { ArenaBattleRow } from "../db/schema.js";
import type { Env } from "../env.js";
import { GatewayError, invalidRequest, notFound } from "../errors.js";
import { parseWith, readJsonBody } from "../http/json-body.js";
import { checkSystemPromptFits, messageView, ownerOf, UserQuery } from "./conversations.js";

const BattleIdParam = z.string().regex(/^battle_[A-Za-z0-9_-]{1,64}$/);

function battleNotFound(id: string): GatewayError {
  return notFound(`No arena battle with id '${id}'.`, "battle_not_found");
}

function conflict(message: string, code: string, retryAfter?: number): GatewayError {
  return new GatewayError({
    status: 409,
    type: "invalid_request_error",
    message,
    code,
    ...(retryAfter === undefined ? {} : { headers: { "retry-after": String(retryAfter) } }),
  });
}

/** Why a battle cannot take a vote (or a turn) now; null when it can. */
function closedBattleError(battle: ArenaBattleRow): GatewayError | null {
  if (battle.status === "voted") return conflict("This battle has been voted on already; each battle takes one vote. Start a new battle.", "already_voted");
  if (battle.status === "failed") {
    return conflict("A side of this battle failed to answer, so it cannot be voted on or continued. Start a new battle.", "battle_not_votable");
  }
  return null;
}

/** Random 32-bit seed per draw: matchmaking is pure and takes its random source. */
function randomSource() {
  return mulberry32(crypto.getRandomValues(new Uint32Array(1))[0]!);
}

/**
 * Two different arena models that are serving now, drawn by weight. 503 when fewer than two are:
 * the arena cannot be blind with one model.
 */
async function drawMatchup(env: Env, config: GatewayConfig): Promise<Matchup> {
  const entered = [...config.models.values()].filter((m) => m.arena !== null);
  const now = Date.now();
  const serving = await Promise.all(entered.map((m) => m.isServing(env, now)));
  const candidates = entered.filter((_, i) => serving[i]).map((m) => ({ model: m.id, weight: m.arena!.weight }));
  const matchup = pickMatchup(candidates, randomSource());
  if (matchup) return matchup;
  throw new GatewayError({
    status: 503,
    type: "service_unavailable_error",
    message:
      entered.length < 2
        ? "The arena needs at least two models configured for it; this gateway has " + entered.length + "."
        : `The arena needs two models that are serving; ${candidates.length} of its ${entered.length} are. Try again shortly.`,
    code: "arena_unavailable",
    ...(entered.length < 2 ? {} : { headers: { "retry-after": "5" } }),
  });
}

/** A named battle: two different served models, in the order given. */
function namedMatchup(config: GatewayConfig, models: readonly [string, string]): Matchup {
  const a = resolveModel(config, models[0]).id;
  const b = resolveModel(config, models[1]).id;
  if (a === b) throw invalidRequest("`models` must name two different models.", "models", "same_model_twice");
  return { a, b };
}

/** A voter, counted without being named: the key and end user, hashed. */
async function voterHash(keyId: string, endUser: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`altiplano arena voter\n${keyId}\n${endUser}`));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function battleId(raw: string): string {
  if (!BattleIdParam.safeParse(raw).success) throw battleNotFound(raw.slice(0, 80));
  return raw;
}

export const arenaRoutes = new Hono<AppEnv>()
  .post("/battles", async (c) => {
    const body = await readJsonBody(c, CreateBattleBody);
    const { content, system_prompt: systemPrompt, models, user, ...sampling } = body;
    const config = getConfig(c.env);
    if (content.length > config.maxMessageChars) throw messageTooLong("content", config.maxMessageChars);
    const owner = ownerOf(c.var.caller, user);
    const matchup = models ? namedMatchup(config, models) : await drawMatchup(c.env, config);
    if (systemPrompt) for (const id of [matchup.a, matchup.b]) checkSystemPromptFits(resolveModel(config, id), systemPrompt);
    const admissions = await admitBattleTurn(c, owner, content, sampling);
    let battle: ArenaBattleRow;
    try {
      battle = await createBattle(c.env.DB, {
        id: newId("battle"),
        owner,
        modelA: matchup.a,
        modelB: matchup.b,
        anonymous: models === undefined,
        systemPrompt: systemPrompt ?? null,
        conversationA: newId("conv"),
        conversationB: newId("conv"),
        now: Date.now(),
      });
    } catch (err) {
      releaseAdmissions(c, admissions);
      throw err;
    }
    return runBattleTurn(c, { battle, owner, content, sampling, admissions, firstTurn: true });
  })
  .get("/battles/:id", async (c) => {
    const id = battleId(c.req.param("id"));
    const query = parseWith(UserQuery.strict(), c.req.query());
    const battle = await getBattle(c.env.DB, ownerOf(c.var.caller, query.user), id);
    if (!battle) throw battleNotFound(id);
    const [messages, vote] = await Promise.all([battleMessages(c.env.DB, battle), getVote(c.env.DB, battle.id)]);
    const body: ArenaBattleWithMessages = {
      ...battleView(battle, vote),
      messages: { a: messages.a.map((m) => messageView(m, undefined)), b: messages.b.map((m) => messageView(m, undefined)) },
    };
    return c.json(body);
  })
  .post("/battles/:id/turns", async (c) => {
    const id = battleId(c.req.param("id"));
    const body = await readJsonBody(c, BattleTurnBody);
    const { content, user, ...sampling } = body;
    const config = getConfig(c.env);
    if (content.length > config.maxMessageChars) throw messageTooLong("content", config.maxMessageChars);
    const owner = ownerOf(c.var.caller, user);
    const battle = await getBattle(c.env.DB, owner, id);
    if (!battle) throw battleNotFound(id);
    const closed = closedBattleError(battle);
    if (closed) throw closed;
    const admissions = await admitBattleTurn(c, owner, content, sampling);
    return runBattleTurn(c, { battle, owner, content, sampling, admissions, firstTurn: false });
  })
  .post("/battles/:id/vote", async (c) => {
    const id = battleId(c.req.param("id"));
    const body = await readJsonBody(c, VoteBody);
    const owner = ownerOf(c.var.caller, body.user);
    const battle = await getBattle(c.env.DB, owner, id);
    if (!battle) throw battleNotFound(id);
    const now = Date.now();
    const refusal = (current: ArenaBattleRow): GatewayError =>
      closedBattleError(current) ??
      (current.turns === 0
        ? conflict("Both answers must have ended before the battle can be voted on.", "battle_busy", 1)
        : conflict("A turn of this battle is still being answered (or has just ended); vote when both answers are complete.", "battle_busy", 1));
    if (battle.status !== "open" || battle.turns === 0 || (await battleIsBusy(c.env.DB, battle, now))) throw refusal(battle);
    // The leak verdict is taken now, from every answer the voter saw.
    const messages = await battleMessages(c.env.DB, battle);
    const config = getConfig(c.env);
    const wordsOf = (model: string) => config.models.get(model)?.arena?.identityWords ?? [];
    const leaked = createIdentityLeakCheck({ [battle.modelA]: wordsOf(battle.modelA), [battle.modelB]: wordsOf(battle.modelB) })({
      modelA: battle.modelA,
      modelB: battle.modelB,
      answersA: messages.a.filter((m) => m.role === "assistant").map((m) => m.content),
      answersB: messages.b.filter((m) => m.role === "assistant").map((m) => m.content),
    });
    const result = await castVote(c.env.DB, {
      battle,
      winner: body.winner,
      voterHash: await voterHash(owner.keyId, owner.endUser),
      identityLeaked: leaked,
      now,
    });
    if (result.kind === "refused") throw result.battle ? refusal(result.battle) : battleNotFound(id);
    return c.json(battleView(result.battle, { winner: body.winner, votedAt: now }));
  });

/** Public, like a share link: the leaderboard names models and counts, never voters. */
export const leaderboardRoutes = new Hono<AppEnv>().get("/", async (c) => c.json(await currentLeaderboard(c.env)));

export const adminArenaRoutes = new Hono<AppEnv>().use(requireRole("admin")).post("/leaderboard", async (c) => c.json(await refreshLeaderboard(c.env)));
