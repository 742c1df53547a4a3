/**
 * Server-side conversations: create (idempotent by external_id), list, read, update, delete,
 * turns, feedback on replies, and (routes/shares.ts) share links. Times are stored in
 * milliseconds and shown in Unix seconds, as every OpenAI object is.
 */
import { Hono } from "hono";
import { z } from "zod";
import {
  CreateConversationBody,
  FeedbackBody,
  Metadata,
  RegenerateBody,
  TurnBody,
  UpdateConversationBody,
  type Conversation,
  type ConversationList,
  type ConversationMessage,
  type ConversationWithMessages,
  type Feedback,
  type ShareDeleted,
} from "../../wire/conversations.js";
import type { AppEnv, Caller } from "../app-env.js";
import { newId } from "../auth/key-material.js";
import { conversationNotFound, runConversationTurn } from "../chat/conversation-turn.js";
import { resolveModel } from "../chat/prepare.js";
import { getConfig } from "../config.js";
import {
  createConversation,
  deleteConversation,
  getConversation,
  listConversations,
  updateConversation,
  type Owner,
} from "../db/conversation-store.js";
import { setFeedback } from "../db/feedback-store.js";
import type { ConversationRow, MessageFeedbackRow, MessageRow } from "../db/schema.js";
import { GatewayError, invalidRequest, notFound } from "../errors.js";
import { parseWith, readJsonBody } from "../http/json-body.js";
import type { ModelRuntime } from "../models/runtime.js";
import { endUserOf } from "./end-user.js";
import { getShareOf, revokeShare, shareConversation } from "../db/share-store.js";
import { newShareId, originOf, shareView } from "./shares.js";

/** D1 keeps milliseconds; every OpenAI object (and the official SDK) reads seconds. */
export function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** Stored metadata read back leniently: a row written before the caps still shows its pairs. */
const StoredMetadata = z.record(z.string(), z.string());

export function conversationView(row: ConversationRow): Conversation {
  const metadata = StoredMetadata.safeParse(JSON.parse(row.metadata));
  return {
    id: row.id,
    object: "conversation",
    model: row.model,
    system_prompt: row.systemPrompt,
    metadata: metadata.success ? metadata.data : {},
    external_id: row.externalId,
    user: row.endUser === "" ? null : row.endUser,
    training_consent: Boolean(row.trainingConsent),
    created_at: unixSeconds(row.createdAt),
    updated_at: unixSeconds(row.updatedAt),
  };
}

export function messageView(row: MessageRow, feedback: MessageFeedbackRow | undefined): ConversationMessage {
  return {
    id: row.id,
    object: "conversation.message",
    role: row.role,
    content: row.content,
    status: row.status,
    created_at: unixSeconds(row.createdAt),
    feedback: feedback ? { rating: feedback.rating, flagged: feedback.flagged, comment: feedback.comment } : null,
  };
}

export const UserQuery = z.object({ user: z.string().min(1).max(256).optional() });
export const ListQuery = UserQuery.extend({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().min(1).max(64).optional(),
  external_id: z.string().min(1).max(256).optional(),
}).strict();

export function ownerOf(caller: Caller, user: string | undefined | null): Owner {
  return { keyId: caller.keyId, endUser: endUserOf(caller, user) };
}

const ConversationIdParam = z.string().regex(/^conv_[A-Za-z0-9_-]{1,64}$/);

/** An id that cannot exist is a 404 like any other missing conversation, never a 500. */
export function conversationId(raw: string): string {
  if (!ConversationIdParam.safeParse(raw).success) throw conversationNotFound(raw.slice(0, 80));
  return raw;
}

const MessageIdParam = z.string().regex(/^msg_[A-Za-z0-9_-]{1,64}$/);

function messageNotFound(id: string): GatewayError {
  return notFound(`No message with id '${id}' in this conversation.`, "message_not_found");
}

/**
 * Refuses a system prompt that leaves no room, in the model's own token count, for the shortest
 * message and a one-token reply: every turn of such a conversation would fail, so it is refused
 * when created rather than accepted and broken. Measured by the runtime's own prepare (the
 * template and tokenizer a turn uses); nothing is sent anywhere.
 */
export function checkSystemPromptFits(model: ModelRuntime, systemPrompt: string): void {
  try {
    model.prepare({ conversation: { system: systemPrompt, messages: [{ role: "user", content: "?" }] }, sampling: {}, truncate: true });
  } catch (err) {
    if (!(err instanceof GatewayError) || err.code !== "context_length_exceeded") throw err;
    throw invalidRequest(
      `The system prompt does not fit the context window of ${model.id} (${model.contextLength} tokens) with room left for a message and a reply. Shorten the system prompt.`,
      "system_prompt",
      "context_length_exceeded",
    );
  }
}

function feedbackView(messageId: string, row: MessageFeedbackRow | null, now: number): Feedback {
  return {
    object: "conversation.message.feedback",
    message_id: messageId,
    rating: row?.rating ?? null,
    flagged: row?.flagged ?? false,
    comment: row?.comment ?? null,
    updated_at: unixSeconds(row?.updatedAt ?? now),
  };
}

export const conversationsRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await readJsonBody(c, CreateConversationBody);
    const model = resolveModel(getConfig(c.env), body.model);
    if (body.system_prompt) checkSystemPromptFits(model, body.system_prompt);
    const { row, created } = await createConversation(c.env.DB, {
      id: newId("conv"),
      owner: ownerOf(c.var.caller, body.user),
      externalId: body.external_id ?? null,
      model: model.id,
      systemPrompt: body.system_prompt ?? null,
      metadata: body.metadata ?? {},
      trainingConsent: body.training_consent ?? null,
      now: Date.now(),
    });
    return c.json(conversationView(row), created ? 201 : 200);
  })
  .get("/", async (c) => {
    const query = parseWith(ListQuery, c.req.query());
    const page = await listConversations(c.env.DB, {
      owner: ownerOf(c.var.caller, query.user),
      externalId: query.external_id,
      after: query.after,
      limit: query.limit,
    });
    if (page.kind === "unknown-cursor") {
      // Not an empty page: the client would take it for the end of the list and stop short.
      throw invalidRequest(
        "The `after` cursor is not a conversation you can see (it may have been deleted); list again from the first page.",
        "after",
        "invalid_cursor",
      );
    }
    const { rows, hasMore } = page;
    const body: ConversationList = { object: "list", data: rows.map(conversationView), has_more: hasMore, last_id: rows[rows.length - 1]?.id ?? null };
    return c.json(body);
  })
  .get("/:id", async (c) => {
    const id = conversationId(c.req.param("id"));
    const query = parseWith(UserQuery.strict(), c.req.query());
    const found = await getConversation(c.env.DB, ownerOf(c.var.caller, query.user), id);
    if (!found) throw conversationNotFound(id);
    const body: ConversationWithMessages = {
      ...conversationView(found.row),
      messages: found.messages.map((m) => messageView(m, found.feedback.get(m.id))),
    };
    return c.json(body);
  })
  .post("/:id", async (c) => {
    const id = conversationId(c.req.param("id"));
    const body = await readJsonBody(c, UpdateConversationBody);
    const row = await updateConversation(c.env.DB, {
      owner: ownerOf(c.var.caller, body.user),
      id,
      ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
      ...(body.training_consent === undefined ? {} : { trainingConsent: body.training_consent }),
      now: Date.now(),
    });
    if (!row) throw conversationNotFound(id);
    return c.json(conversationView(row));
  })
  .delete("/:id", async (c) => {
    const id = conversationId(c.req.param("id"));
    const query = parseWith(UserQuery.strict(), c.req.query());
    if (!(await deleteConversation(c.env.DB, ownerOf(c.var.caller, query.user), id))) throw conversationNotFound(id);
    return c.json({ id, object: "conversation.deleted", deleted: true });
  })
  .post("/:id/messages", async (c) => {
    const id = conversationId(c.req.param("id"));
    const body = await readJsonBody(c, TurnBody);
    const { content, replaces, ...sampling } = body;
    return runConversationTurn(c, {
      conversationId: id,
      owner: ownerOf(c.var.caller, body.user),
      sampling,
      userContent: content,
      replacesUserMessageId: replaces ?? null,
    });
  })
  .post("/:id/regenerate", async (c) => {
    const id = conversationId(c.req.param("id"));
    const body = await readJsonBody(c, RegenerateBody);
    return runConversationTurn(c, { conversationId: id, owner: ownerOf(c.var.caller, body.user), sampling: body, userContent: null, replacesUserMessageId: null });
  })
  .post("/:id/messages/:message_id/feedback", async (c) => {
    const id = conversationId(c.req.param("id"));
    const rawMessageId = c.req.param("message_id");
    if (!MessageIdParam.safeParse(rawMessageId).success) throw messageNotFound(rawMessageId.slice(0, 80));
    const body = await readJsonBody(c, FeedbackBody);
    const now = Date.now();
    const result = await setFeedback(c.env.DB, {
      owner: ownerOf(c.var.caller, body.user),
      conversationId: id,
      messageId: rawMessageId,
      // An empty comment is no comment, so clearing the box clears it.
      change: { rating: body.rating, flagged: body.flagged, comment: body.comment === "" ? null : body.comment },
      now,
    });
    if (result.kind === "not-found") throw messageNotFound(rawMessageId);
    if (result.kind === "not-assistant") {
      throw invalidRequest("Feedback is given on assistant messages; this is a user message.", "message_id", "not_an_assistant_message");
    }
    return c.json(feedbackView(rawMessageId, result.row, now));
  })
  // Share links (routes/shares.ts has the public read). `user` comes in the query: no body.
  .post("/:id/share", async (c) => {
    const id = conversationId(c.req.param("id"));
    const query = parseWith(UserQuery.strict(), c.req.query());
    const result = await shareConversation(c.env.DB, { owner: ownerOf(c.var.caller, query.user), conversationId: id, newId: newShareId(), now: Date.now() });
    if (!result) throw conversationNotFound(id);
    return c.json(shareView(originOf(c.req.url), result.info), result.created ? 201 : 200);
  })
  .get("/:id/share", async (c) => {
    const id = conversationId(c.req.param("id"));
    const query = parseWith(UserQuery.strict(), c.req.query());
    const info = await getShareOf(c.env.DB, ownerOf(c.var.caller, query.user), id);
    if (!info) throw notShared(id);
    return c.json(shareView(originOf(c.req.url), info));
  })
  .delete("/:id/share", async (c) => {
    const id = conversationId(c.req.param("id"));
    const query = parseWith(UserQuery.strict(), c.req.query());
    const shareId = await revokeShare(c.env.DB, ownerOf(c.var.caller, query.user), id);
    if (!shareId) throw notShared(id);
    const body: ShareDeleted = { id: shareId, object: "conversation.share.deleted", deleted: true };
    return c.json(body);
  });

function notShared(id: string): GatewayError {
  return notFound(`The conversation '${id}' is not shared, or does not exist.`, "share_not_found");
}
