/**
 * Shapes the page reads from the gateway, checked at the edge with zod's small `mini` build (the
 * full build would be most of the page's weight). The conversation objects mirror the gateway's
 * wire module and are checked against its interfaces at compile time (SameShape), so they cannot
 * drift apart; the sign-in view, model list, errors and stream chunks carry only what the page uses.
 */
import * as z from "zod/mini";
import type {
  Conversation,
  ConversationList,
  ConversationWithMessages,
  Feedback,
  Share,
  SharedConversation,
} from "../../../wire/conversations.js";
import type { SameShape } from "../../../wire/openai.js";

export type {
  Conversation,
  ConversationMessage,
  ConversationWithMessages,
  Feedback,
  FeedbackBody,
  MessageFeedback,
  MessageStatus,
  Rating,
  Share,
  SharedConversation,
} from "../../../wire/conversations.js";

const Status = z.nullable(z.enum(["complete", "length", "cancelled", "failed"]));
const Rating = z.nullable(z.enum(["up", "down"]));
const Role = z.enum(["user", "assistant"]);

export const ConversationSchema = z.object({
  id: z.string(),
  object: z.literal("conversation"),
  model: z.string(),
  system_prompt: z.nullable(z.string()),
  metadata: z.record(z.string(), z.string()),
  external_id: z.nullable(z.string()),
  user: z.nullable(z.string()),
  training_consent: z.boolean(),
  created_at: z.number(),
  updated_at: z.number(),
});

export const ConversationWithMessagesSchema = z.extend(ConversationSchema, {
  messages: z.array(
    z.object({
      id: z.string(),
      object: z.literal("conversation.message"),
      role: Role,
      content: z.string(),
      status: Status,
      created_at: z.number(),
      feedback: z.nullable(z.object({ rating: Rating, flagged: z.boolean(), comment: z.nullable(z.string()) })),
    }),
  ),
});

export const ConversationListSchema = z.object({
  object: z.literal("list"),
  data: z.array(ConversationSchema),
  has_more: z.boolean(),
  last_id: z.nullable(z.string()),
});

export const FeedbackSchema = z.object({
  object: z.literal("conversation.message.feedback"),
  message_id: z.string(),
  rating: Rating,
  flagged: z.boolean(),
  comment: z.nullable(z.string()),
  updated_at: z.number(),
});

export const ShareSchema = z.object({
  object: z.literal("conversation.share"),
  id: z.string(),
  url: z.string(),
  conversation_id: z.string(),
  message_count: z.number(),
  created_at: z.number(),
});

export const ShareDeletedSchema = z.object({ id: z.string(), object: z.literal("conversation.share.deleted"), deleted: z.literal(true) });

export const SharedConversationSchema = z.object({
  object: z.literal("shared_conversation"),
  id: z.string(),
  title: z.nullable(z.string()),
  model: z.string(),
  created_at: z.number(),
  messages: z.array(z.object({ role: Role, content: z.string(), status: Status })),
});

const schemasMatchWire: [
  SameShape<z.infer<typeof ConversationSchema>, Conversation>,
  SameShape<z.infer<typeof ConversationWithMessagesSchema>, ConversationWithMessages>,
  SameShape<z.infer<typeof ConversationListSchema>, ConversationList>,
  SameShape<z.infer<typeof FeedbackSchema>, Feedback>,
  SameShape<z.infer<typeof ShareSchema>, Share>,
  SameShape<z.infer<typeof SharedConversationSchema>, SharedConversation>,
] = [true, true, true, true, true, true];
void schemasMatchWire;

/** `GET /auth/session`: who the browser's cookies sign in as (workers/web/session-routes.ts). */
export const SessionViewSchema = z.union([
  z.object({ signed_in: z.literal(false), demo: z.boolean() }),
  z.object({ signed_in: z.literal(true), kind: z.literal("key"), name: z.string(), role: z.string(), demo: z.boolean() }),
  z.object({ signed_in: z.literal(true), kind: z.literal("visitor"), demo: z.literal(true) }),
]);
export type SessionView = z.infer<typeof SessionViewSchema>;

export const ModelListSchema = z.object({ data: z.array(z.object({ id: z.string() })) });

/** OpenAI's error envelope, as every gateway error (and a failed stream's last event) carries it. */
export const ErrorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    code: z.nullish(z.string()),
  }),
});

/** One `chat.completion.chunk` of a streamed turn (the fields the page shows). */
export const ChunkSchema = z.object({
  choices: z.array(
    z.object({
      delta: z.optional(z.object({ content: z.nullish(z.string()) })),
      finish_reason: z.nullish(z.string()),
    }),
  ),
});
