/**
 * Altiplano's server-side conversation API (`/v1/conversations`): request bodies the gateway
 * validates and the objects it returns. The bot and tests import these; they never import the
 * gateway's internals.
 */
import { z } from "zod";
import { SamplingParams, type SameShape } from "./openai.js";

export const MessageStatus = z.enum(["complete", "length", "cancelled", "failed"]);
export type MessageStatus = z.infer<typeof MessageStatus>;

/** OpenAI's caps on `metadata`: at most 16 pairs, keys of at most 64 characters, values of at most 512. */
export const METADATA_LIMITS = { keys: 16, keyChars: 64, valueChars: 512 } as const;

/**
 * Metadata as OpenAI caps it. The caps are checked here, not with z.string().max() on the record's
 * key, so each breach gets its own sentence; messages never echo the client's keys back.
 */
export const Metadata = z.record(z.string(), z.string()).superRefine((metadata, ctx) => {
  const keys = Object.keys(metadata);
  if (keys.length > METADATA_LIMITS.keys) {
    ctx.addIssue({ code: "custom", message: `at most ${METADATA_LIMITS.keys} key-value pairs are allowed, got ${keys.length}` });
  }
  if (keys.some((key) => key.length > METADATA_LIMITS.keyChars)) {
    ctx.addIssue({ code: "custom", message: `keys may be at most ${METADATA_LIMITS.keyChars} characters long` });
  }
  if (Object.values(metadata).some((value) => value.length > METADATA_LIMITS.valueChars)) {
    ctx.addIssue({ code: "custom", message: `values may be at most ${METADATA_LIMITS.valueChars} characters long` });
  }
});

export const CreateConversationBody = z
  .object({
    model: z.string().min(1).max(128).optional(),
    system_prompt: z.string().max(32_000).nullish(),
    metadata: Metadata.optional(),
    /** Caller's own id for this conversation (e.g. a Discord thread id); unique per key and end user. */
    external_id: z.string().min(1).max(256).optional(),
    /** End user the conversation belongs to (bot keys: e.g. a Discord user id). */
    user: z.string().min(1).max(256).optional(),
    /** Consent to export it as training data; absent = its key's data-sharing setting. */
    training_consent: z.boolean().optional(),
  })
  .strict();
export type CreateConversationBody = z.infer<typeof CreateConversationBody>;

/** `POST /v1/conversations/{id}`: replaces the metadata (as OpenAI's conversation update does) and/or sets the consent. */
export const UpdateConversationBody = z
  .object({
    metadata: Metadata.optional(),
    /** Consent to export it as training data; withdrawing it takes it out of every later export. */
    training_consent: z.boolean().optional(),
    user: z.string().min(1).max(256).optional(),
  })
  .strict()
  .refine((b) => b.metadata !== undefined || b.training_consent !== undefined, { message: "give metadata, training_consent or both" });
export type UpdateConversationBody = z.infer<typeof UpdateConversationBody>;

export const TurnBody = z
  .object({
    content: z.string().min(1),
    /**
     * Edit and resend: the id of the conversation's last user message, which is removed with
     * everything after it in the same write that appends `content`.
     */
    replaces: z.string().min(1).max(80).optional(),
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
  /** Whether it may be exported as training data (`npm run export`). */
  training_consent: boolean;
  created_at: number;
  updated_at: number;
}

export const Rating = z.enum(["up", "down"]);
export type Rating = z.infer<typeof Rating>;

/** `POST /v1/conversations/{id}/messages/{message_id}/feedback`: absent fields stay as they were. */
export const FeedbackBody = z
  .object({
    rating: Rating.nullable().optional(),
    flagged: z.boolean().optional(),
    comment: z.string().max(2000).nullable().optional(),
    user: z.string().min(1).max(256).optional(),
  })
  .strict();
export type FeedbackBody = z.infer<typeof FeedbackBody>;

/** The caller's own feedback on a message (each end user of a shared thread has their own). */
export interface MessageFeedback {
  rating: Rating | null;
  flagged: boolean;
  comment: string | null;
}

export interface ConversationMessage {
  id: string;
  object: "conversation.message";
  role: "user" | "assistant";
  content: string;
  /** Assistant messages only: how the generation ended. */
  status: MessageStatus | null;
  /** Unix seconds. */
  created_at: number;
  /** The caller's feedback, null when it gave none. */
  feedback: MessageFeedback | null;
}

export interface Feedback extends MessageFeedback {
  object: "conversation.message.feedback";
  message_id: string;
  /** Unix seconds: when this change was made (also for a clear, which stores nothing). */
  updated_at: number;
}

export interface Share {
  object: "conversation.share";
  id: string;
  /** The public page of the snapshot: the request's origin + `/share/{id}`. */
  url: string;
  conversation_id: string;
  message_count: number;
  /** Unix seconds: when the snapshot was (last) taken. */
  created_at: number;
}

export interface ShareDeleted {
  id: string;
  object: "conversation.share.deleted";
  deleted: true;
}

export interface SharedMessage {
  role: "user" | "assistant";
  content: string;
  status: MessageStatus | null;
}

/** The public, read-only snapshot: no key, end user, metadata or message ids. */
export interface SharedConversation {
  object: "shared_conversation";
  id: string;
  title: string | null;
  model: string;
  /** Unix seconds: when the snapshot was taken. */
  created_at: number;
  messages: SharedMessage[];
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
  training_consent: z.boolean(),
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
  feedback: z.object({ rating: Rating.nullable(), flagged: z.boolean(), comment: z.string().nullable() }).nullable(),
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

export const FeedbackSchema = z.object({
  object: z.literal("conversation.message.feedback"),
  message_id: z.string(),
  rating: Rating.nullable(),
  flagged: z.boolean(),
  comment: z.string().nullable(),
  updated_at: z.number().int(),
});

export const ShareSchema = z.object({
  object: z.literal("conversation.share"),
  id: z.string(),
  url: z.string(),
  conversation_id: z.string(),
  message_count: z.number().int(),
  created_at: z.number().int(),
});

export const ShareDeletedSchema = z.object({
  id: z.string(),
  object: z.literal("conversation.share.deleted"),
  deleted: z.literal(true),
});

export const SharedConversationSchema = z.object({
  object: z.literal("shared_conversation"),
  id: z.string(),
  title: z.string().nullable(),
  model: z.string(),
  created_at: z.number().int(),
  messages: z.array(z.object({ role: z.enum(["user", "assistant"]), content: z.string(), status: MessageStatus.nullable() })),
});

const conversationSchemasMatch: [
  SameShape<z.infer<typeof ConversationSchema>, Conversation>,
  SameShape<z.infer<typeof ConversationMessageSchema>, ConversationMessage>,
  SameShape<z.infer<typeof ConversationWithMessagesSchema>, ConversationWithMessages>,
  SameShape<z.infer<typeof ConversationListSchema>, ConversationList>,
  SameShape<z.infer<typeof FeedbackSchema>, Feedback>,
  SameShape<z.infer<typeof ShareSchema>, Share>,
  SameShape<z.infer<typeof SharedConversationSchema>, SharedConversation>,
  SameShape<z.infer<typeof ShareDeletedSchema>, ShareDeleted>,
] = [true, true, true, true, true, true, true, true];
