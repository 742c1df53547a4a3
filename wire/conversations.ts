/**
 * Altiplano's server-side conversation API (`/v1/conversations`): request bodies the gateway
 * validates and the objects it returns. The bot and tests import these; they never import the
 * gateway's internals.
 */
import { z } from "zod";
import { SamplingParams, type SameShape } from "./openai.js";

export const MessageStatus = z.enum(["complete", "length", "cancelled", "failed"]);
export type MessageStatus = z.infer<typeof MessageStatus>;

export const CreateConversationBody = z
  .object({
    model: z.string().min(1).max(128).optional(),
    system_prompt: z.string().max(32_000).nullish(),
    metadata: z.record(z.string().max(64), z.string().max(512)).optional(),
    /** Caller's own id for this conversation (e.g. a Discord thread id); unique per key and end user. */
    external_id: z.string().min(1).max(256).optional(),
    /** End user the conversation belongs to (bot keys: e.g. a Discord user id). */
    user: z.string().min(1).max(256).optional(),
  })
  .strict();
export type CreateConversationBody = z.infer<typeof CreateConversationBody>;

export const TurnBody = z
  .object({
    content: z.string().min(1),
    ...SamplingParams,
  })
  .strict();
export type TurnBody = z.infer<typeof TurnBody>;

export const RegenerateBody = z.object({ ...SamplingParams }).strict();
export type RegenerateBody = z.infer<typeof RegenerateBody>;

export interface Conversation {
  id: string;
  object: "conversation";
  model: string;
  system_prompt: string | null;
  metadata: Record<string, string>;
  external_id: string | null;
  user: string | null;
  created_at: number;
  updated_at: number;
}

export interface ConversationMessage {
  id: string;
  object: "conversation.message";
  role: "user" | "assistant";
  content: string;
  /** Assistant messages only: how the generation ended. */
  status: MessageStatus | null;
  created_at: number;
}

export interface ConversationWithMessages extends Conversation {
  messages: ConversationMessage[];
}

export interface ConversationList {
  object: "list";
  data: Conversation[];
  has_more: boolean;
  /** Pass as `after` to get the next page. */
  last_id: string | null;
}

/** Response headers of a turn (`POST …/messages`, `POST …/regenerate`). */
export const TURN_HEADERS = {
  conversationId: "x-conversation-id",
  userMessageId: "x-user-message-id",
  assistantMessageId: "x-message-id",
} as const;

/*
 * Response schemas for the objects above (the OpenAPI description is built from them), checked
 * against the interfaces at compile time so the two cannot drift apart.
 */

export const ConversationSchema = z.object({
  id: z.string(),
  object: z.literal("conversation"),
  model: z.string(),
  system_prompt: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  external_id: z.string().nullable(),
  user: z.string().nullable(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
});

export const ConversationMessageSchema = z.object({
  id: z.string(),
  object: z.literal("conversation.message"),
  role: z.enum(["user", "assistant"]),
  content: z.string(),
  /** Assistant messages only: how the generation ended. */
  status: MessageStatus.nullable(),
  created_at: z.number().int(),
});

export const ConversationWithMessagesSchema = ConversationSchema.extend({ messages: z.array(ConversationMessageSchema) });

export const ConversationListSchema = z.object({
  object: z.literal("list"),
  data: z.array(ConversationSchema),
  has_more: z.boolean(),
  /** Pass as `after` to get the next page. */
  last_id: z.string().nullable(),
});

export const ConversationDeletedSchema = z.object({
  id: z.string(),
  object: z.literal("conversation.deleted"),
  deleted: z.literal(true),
});

const conversationSchemasMatch: [
  SameShape<z.infer<typeof ConversationSchema>, Conversation>,
  SameShape<z.infer<typeof ConversationMessageSchema>, ConversationMessage>,
  SameShape<z.infer<typeof ConversationWithMessagesSchema>, ConversationWithMessages>,
  SameShape<z.infer<typeof ConversationListSchema>, ConversationList>,
] = [true, true, true, true];
