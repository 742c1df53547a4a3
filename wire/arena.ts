/**
 * The arena API (`/v1/arena/battles`, `/v1/leaderboard`): two anonymous models answer the same
 * question side by side, the caller votes, and the votes rank the models. Request bodies the
 * gateway validates and the objects it returns; the web page and the bot import these.
 *
 * Streaming is one SSE stream carrying both sides (each event names its slot), not two streams:
 * one request, one admission of both generations, and one place where the battle's end is known.
 */
import { z } from "zod";
import { ConversationMessageSchema, MessageStatus, type ConversationMessage } from "./conversations.js";
import { ErrorBodySchema, UsageSchema, type ErrorBody, type SameShape, type Usage } from "./openai.js";

export const ArenaSlot = z.enum(["a", "b"]);
export type ArenaSlot = z.infer<typeof ArenaSlot>;

/** `tie` and `bothbad` both count as half a win each way in the ratings. */
export const ArenaWinner = z.enum(["a", "b", "tie", "bothbad"]);
export type ArenaWinner = z.infer<typeof ArenaWinner>;

/** open: waiting for turns or a vote · voted: closed, names shown · failed: a side failed; closed, names shown, never voted. */
export type ArenaBattleStatus = "open" | "voted" | "failed";

/** Sampling both sides share. Temperature and length apply to each side alike. */
const ArenaSampling = {
  stream: z.boolean().optional(),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  /** End user the battle belongs to (bot keys: e.g. a Discord user id). */
  user: z.string().min(1).max(256).optional(),
};

/** `POST /v1/arena/battles`: the first question, which both sides answer. */
export const CreateBattleBody = z
  .object({
    content: z.string().min(1),
    system_prompt: z.string().max(32_000).nullish(),
    /**
     * Two different models to compare by name: the battle is then not anonymous, shows the names
     * from the start, and its vote is stored but left out of the leaderboard.
     */
    models: z.tuple([z.string().min(1).max(128), z.string().min(1).max(128)]).optional(),
    ...ArenaSampling,
  })
  .strict();
export type CreateBattleBody = z.infer<typeof CreateBattleBody>;

/** `POST /v1/arena/battles/{id}/turns`: a follow-up question both sides answer. */
export const BattleTurnBody = z.object({ content: z.string().min(1), ...ArenaSampling }).strict();
export type BattleTurnBody = z.infer<typeof BattleTurnBody>;

/** `POST /v1/arena/battles/{id}/vote`. */
export const VoteBody = z.object({ winner: ArenaWinner, user: z.string().min(1).max(256).optional() }).strict();
export type VoteBody = z.infer<typeof VoteBody>;

export interface ArenaSide {
  /** Null while the battle is anonymous and not voted yet. */
  model: string | null;
  /**
   * The side's stored conversation. Hidden from `/v1/conversations` until the vote (it would name
   * the model); after it, an ordinary conversation the caller may continue.
   */
  conversation_id: string;
}

export interface ArenaVote {
  winner: ArenaWinner;
  /** Unix seconds. */
  voted_at: number;
}

export interface ArenaBattle {
  id: string;
  object: "arena.battle";
  status: ArenaBattleStatus;
  /** False when the caller chose the models by name (`models`). */
  anonymous: boolean;
  /** Questions asked so far (each answered by both sides). */
  turns: number;
  /** Unix seconds. */
  created_at: number;
  a: ArenaSide;
  b: ArenaSide;
  vote: ArenaVote | null;
}

/** One side's answer to one turn. */
export interface ArenaReply {
  /** The stored assistant message; null when the side failed before its first token (nothing stored). */
  message_id: string | null;
  content: string;
  status: MessageStatus;
  finish_reason: "stop" | "length" | null;
  usage: Usage | null;
  /** Why the side failed (status `failed`), in the API's error shape. */
  error: ErrorBody["error"] | null;
}

/** The answer to `POST /v1/arena/battles` and `…/turns` without `stream`. */
export interface ArenaTurnResult extends ArenaBattle {
  replies: { a: ArenaReply; b: ArenaReply };
}

/** `GET /v1/arena/battles/{id}`: the battle with both sides' messages. */
export interface ArenaBattleWithMessages extends ArenaBattle {
  messages: { a: ConversationMessage[]; b: ConversationMessage[] };
}

/**
 * One `data:` event of a streamed battle turn, in this order: `battle` (the battle as the turn
 * starts), then `delta`s of both slots interleaved as they arrive, one `reply` per slot when that
 * side ends, and a last `battle` with the status after the turn; then `data: [DONE]`.
 */
export type ArenaStreamEvent =
  | { type: "battle"; battle: ArenaBattle }
  | { type: "delta"; slot: ArenaSlot; content: string }
  | { type: "reply"; slot: ArenaSlot; reply: ArenaReply };

export interface LeaderboardEntry {
  model: string;
  /** 1 + how many models are better beyond doubt (their interval above this one's); overlapping models share a rank. */
  rank: number;
  /** Elo-like points: 400 per factor of 10 in odds; the mean model is at 1000 unless an anchor model is configured. */
  rating: number;
  /** 95 % bootstrap interval. */
  rating_low: number;
  rating_high: number;
  battles: number;
  wins: number;
  losses: number;
  /** `tie` and `bothbad` together. */
  ties: number;
}

/** `GET /v1/leaderboard`, public. Recomputed on a schedule (or when older than its max age), never per view. */
export interface ArenaLeaderboard {
  object: "arena.leaderboard";
  /** Unix seconds: when these ratings were computed. */
  computed_at: number;
  /** Votes of anonymous battles stored at computation. */
  votes_total: number;
  /** Votes the ratings are fitted on, after the filters below. */
  votes_counted: number;
  votes_dropped: { identity_leak: number; voter_cap: number };
  anchor: { kind: "mean"; rating: number } | { kind: "model"; model: string; rating: number };
  bootstrap: { rounds: number; seed: number; confidence: number };
  /** Best first. */
  models: LeaderboardEntry[];
  /**
   * `fractions[i][j]`: share of battles between models[i] and models[j] that models[i] won (ties
   * half); null on the diagonal and for pairs that never met. `battles[i][j]`: how many they had.
   */
  win_fractions: { models: string[]; fractions: (number | null)[][]; battles: number[][] };
  /** The latest recorded `npm run eval` run (POST /admin/evals), shown beside the votes; null before any. */
  judge: LeaderboardJudge | null;
}

/** An LLM judge's scores from a recorded evaluation run. */
export interface LeaderboardJudge {
  run_id: string;
  /** Unix seconds. */
  recorded_at: number;
  judge_model: string;
  /** single: mean rating 1–10 · pairwise: adjusted win rate 0–1. */
  mode: "single" | "pairwise";
  question_set: string;
  question_count: number;
  /** By model; models the run did not evaluate are absent. */
  scores: Record<string, number | null>;
}

/*
 * Response schemas for the objects above (the OpenAPI description is built from them), checked
 * against the interfaces at compile time so the two cannot drift apart.
 */

const ArenaSideSchema = z.object({ model: z.string().nullable(), conversation_id: z.string() });

export const ArenaBattleSchema = z.object({
  id: z.string(),
  object: z.literal("arena.battle"),
  status: z.enum(["open", "voted", "failed"]),
  anonymous: z.boolean(),
  turns: z.number().int(),
  created_at: z.number().int(),
  a: ArenaSideSchema,
  b: ArenaSideSchema,
  vote: z.object({ winner: ArenaWinner, voted_at: z.number().int() }).nullable(),
});

const ArenaReplySchema = z.object({
  message_id: z.string().nullable(),
  content: z.string(),
  status: MessageStatus,
  finish_reason: z.enum(["stop", "length"]).nullable(),
  usage: UsageSchema.nullable(),
  error: ErrorBodySchema.shape.error.nullable(),
});

export const ArenaTurnResultSchema = ArenaBattleSchema.extend({ replies: z.object({ a: ArenaReplySchema, b: ArenaReplySchema }) });

export const ArenaBattleWithMessagesSchema = ArenaBattleSchema.extend({
  messages: z.object({ a: z.array(ConversationMessageSchema), b: z.array(ConversationMessageSchema) }),
});

export const ArenaLeaderboardSchema = z.object({
  object: z.literal("arena.leaderboard"),
  computed_at: z.number().int(),
  votes_total: z.number().int(),
  votes_counted: z.number().int(),
  votes_dropped: z.object({ identity_leak: z.number().int(), voter_cap: z.number().int() }),
  anchor: z.union([z.object({ kind: z.literal("mean"), rating: z.number() }), z.object({ kind: z.literal("model"), model: z.string(), rating: z.number() })]),
  bootstrap: z.object({ rounds: z.number().int(), seed: z.number().int(), confidence: z.number() }),
  models: z.array(
    z.object({
      model: z.string(),
      rank: z.number().int(),
      rating: z.number(),
      rating_low: z.number(),
      rating_high: z.number(),
      battles: z.number().int(),
      wins: z.number().int(),
      losses: z.number().int(),
      ties: z.number().int(),
    }),
  ),
  win_fractions: z.object({ models: z.array(z.string()), fractions: z.array(z.array(z.number().nullable())), battles: z.array(z.array(z.number().int())) }),
  judge: z
    .object({
      run_id: z.string(),
      recorded_at: z.number().int(),
      judge_model: z.string(),
      mode: z.enum(["single", "pairwise"]),
      question_set: z.string(),
      question_count: z.number().int(),
      scores: z.record(z.string(), z.number().nullable()),
    })
    .nullable(),
});

const arenaSchemasMatch: [
  SameShape<z.infer<typeof ArenaBattleSchema>, ArenaBattle>,
  SameShape<z.infer<typeof ArenaTurnResultSchema>, ArenaTurnResult>,
  SameShape<z.infer<typeof ArenaBattleWithMessagesSchema>, ArenaBattleWithMessages>,
  SameShape<z.infer<typeof ArenaLeaderboardSchema>, ArenaLeaderboard>,
] = [true, true, true, true];
void arenaSchemasMatch;
