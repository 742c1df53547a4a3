/**
 * Response schemas of the arena API as the bot reads them. `wire/arena.ts` defines the objects as
 * interfaces only; these schemas mirror them and are checked against them at compile time
 * (SameShape), so a change of the contract fails the typecheck here instead of a parse at runtime.
 */
import { z } from "zod";
import type { ArenaBattle, ArenaBattleWithMessages, ArenaReply, ArenaTurnResult } from "../wire/arena.js";
import { ArenaWinner } from "../wire/arena.js";
import { ConversationMessageSchema, MessageStatus } from "../wire/conversations.js";
import { ErrorBodySchema, UsageSchema, type SameShape } from "../wire/openai.js";

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

export const ArenaReplySchema = z.object({
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

const arenaSchemasMatch: [
  SameShape<z.infer<typeof ArenaBattleSchema>, ArenaBattle>,
  SameShape<z.infer<typeof ArenaReplySchema>, ArenaReply>,
  SameShape<z.infer<typeof ArenaTurnResultSchema>, ArenaTurnResult>,
  SameShape<z.infer<typeof ArenaBattleWithMessagesSchema>, ArenaBattleWithMessages>,
] = [true, true, true, true];
void arenaSchemasMatch;
