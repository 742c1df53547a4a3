/**
 * The arena's shapes as the page reads them, checked with zod's `mini` build like the chat's
 * (api/schemas.ts), and checked against wire/arena.ts at compile time (SameShape): a change of the
 * contract that the page does not follow fails `npm run typecheck`.
 */
import * as z from "zod/mini";
import type {
  ArenaBattle,
  ArenaBattleWithMessages,
  ArenaLeaderboard,
  ArenaReply,
  ArenaStreamEvent,
  LeaderboardEntry,
} from "../../../wire/arena.js";
import type { SameShape } from "../../../wire/openai.js";

export type {
  ArenaBattle,
  ArenaBattleStatus,
  ArenaBattleWithMessages,
  ArenaLeaderboard,
  ArenaReply,
  ArenaSlot,
  ArenaStreamEvent,
  ArenaWinner,
  LeaderboardEntry,
} from "../../../wire/arena.js";

const Slot = z.enum(["a", "b"]);
const Winner = z.enum(["a", "b", "tie", "bothbad"]);
const MessageStatus = z.enum(["complete", "length", "cancelled", "failed"]);

const Side = z.object({ model: z.nullable(z.string()), conversation_id: z.string() });

export const ArenaBattleSchema = z.object({
  id: z.string(),
  object: z.literal("arena.battle"),
  status: z.enum(["open", "voted", "failed"]),
  anonymous: z.boolean(),
  turns: z.number(),
  created_at: z.number(),
  a: Side,
  b: Side,
  vote: z.nullable(z.object({ winner: Winner, voted_at: z.number() })),
});

const Usage = z.object({
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  total_tokens: z.number(),
  prompt_tokens_details: z.optional(z.object({ cached_tokens: z.number() })),
});

const ErrorFields = z.object({ message: z.string(), type: z.string(), param: z.nullable(z.string()), code: z.nullable(z.string()) });

export const ArenaReplySchema = z.object({
  message_id: z.nullable(z.string()),
  content: z.string(),
  status: MessageStatus,
  finish_reason: z.nullable(z.enum(["stop", "length"])),
  usage: z.nullable(Usage),
  error: z.nullable(ErrorFields),
});

export const ArenaStreamEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("battle"), battle: ArenaBattleSchema }),
  z.object({ type: z.literal("delta"), slot: Slot, content: z.string() }),
  z.object({ type: z.literal("reply"), slot: Slot, reply: ArenaReplySchema }),
]);

const Message = z.object({
  id: z.string(),
  object: z.literal("conversation.message"),
  role: z.enum(["user", "assistant"]),
  content: z.string(),
  status: z.nullable(MessageStatus),
  created_at: z.number(),
  feedback: z.nullable(z.object({ rating: z.nullable(z.enum(["up", "down"])), flagged: z.boolean(), comment: z.nullable(z.string()) })),
});

export const ArenaBattleWithMessagesSchema = z.extend(ArenaBattleSchema, {
  messages: z.object({ a: z.array(Message), b: z.array(Message) }),
});

const LeaderboardEntrySchema = z.object({
  model: z.string(),
  rank: z.number(),
  rating: z.number(),
  rating_low: z.number(),
  rating_high: z.number(),
  battles: z.number(),
  wins: z.number(),
  losses: z.number(),
  ties: z.number(),
});

export const ArenaLeaderboardSchema = z.object({
  object: z.literal("arena.leaderboard"),
  computed_at: z.number(),
  votes_total: z.number(),
  votes_counted: z.number(),
  votes_dropped: z.object({ identity_leak: z.number(), voter_cap: z.number() }),
  anchor: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("mean"), rating: z.number() }),
    z.object({ kind: z.literal("model"), model: z.string(), rating: z.number() }),
  ]),
  bootstrap: z.object({ rounds: z.number(), seed: z.number(), confidence: z.number() }),
  models: z.array(LeaderboardEntrySchema),
  win_fractions: z.object({
    models: z.array(z.string()),
    fractions: z.array(z.array(z.nullable(z.number()))),
    battles: z.array(z.array(z.number())),
  }),
  judge: z.nullable(
    z.object({
      run_id: z.string(),
      recorded_at: z.number(),
      judge_model: z.string(),
      mode: z.enum(["single", "pairwise"]),
      question_set: z.string(),
      question_count: z.number(),
      scores: z.record(z.string(), z.nullable(z.number())),
    }),
  ),
});

const schemasMatchWire: [
  SameShape<z.infer<typeof ArenaBattleSchema>, ArenaBattle>,
  SameShape<z.infer<typeof ArenaReplySchema>, ArenaReply>,
  SameShape<z.infer<typeof ArenaStreamEventSchema>, ArenaStreamEvent>,
  SameShape<z.infer<typeof ArenaBattleWithMessagesSchema>, ArenaBattleWithMessages>,
  SameShape<z.infer<typeof LeaderboardEntrySchema>, LeaderboardEntry>,
  SameShape<z.infer<typeof ArenaLeaderboardSchema>, ArenaLeaderboard>,
] = [true, true, true, true, true, true];
void schemasMatchWire;
