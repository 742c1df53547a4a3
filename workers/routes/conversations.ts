/** Server-side conversations: create (idempotent by external_id), list, read, delete, turns. */
import { Hono } from "hono";
import { z } from "zod";
import {
  CreateConversationBody,
  RegenerateBody,
  TurnBody,
  type Conversation,
  type ConversationList,
  type ConversationMessage,
  type ConversationWithMessages,
} from "../../wire/conversations.js";
import type { AppEnv, Caller } from "../app-env.js";
import { newId } from "../auth/key-material.js";
import { conversationNotFound, runConversationTurn } from "../chat/conversation-turn.js";
import { resolveModel } from "../chat/prepare.js";
import { getConfig } from "../config.js";
import { createConversation, deleteConversation, getConversation, listConversations, type Owner } from "../db/conversation-store.js";
import type { ConversationRow, MessageRow } from "../db/schema.js";
import { parseWith, readJsonBody } from "../http/json-body.js";
import { endUserOf } from "./end-user.js";

const Metadata = z.record(z.string(), z.string());

function conversationView(row: ConversationRow): Conversation {
  const metadata = Metadata.safeParse(JSON.parse(row.metadata));
  return {
    id: row.id,
    object: "conversation",
    model: row.model,
    system_prompt: row.systemPrompt,
    metadata: metadata.success ? metadata.data : {},
    external_id: row.externalId,
    user: row.endUser === "" ? null : row.endUser,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

function messageView(row: MessageRow): ConversationMessage {
  return { id: row.id, object: "conversation.message", role: row.role, content: row.content, status: row.status, created_at: row.createdAt };
}

export const UserQuery = z.object({ user: z.string().min(1).max(256).optional() });
export const ListQuery = UserQuery.extend({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().min(1).max(64).optional(),
  external_id: z.string().min(1).max(256).optional(),
}).strict();

function ownerOf(caller: Caller, user: string | undefined | null): Owner {
  return { keyId: caller.keyId, endUser: endUserOf(caller, user) };
}

const ConversationIdParam = z.string().regex(/^conv_[A-Za-z0-9_-]{1,64}$/);

/** An id that cannot exist is a 404 like any other missing conversation, never a 500. */
function conversationId(raw: string): string {
  if (!ConversationIdParam.safeParse(raw).success) throw conversationNotFound(raw.slice(0, 80));
  return raw;
}

export const conversationsRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await readJsonBody(c, CreateConversationBody);
    const model = resolveModel(getConfig(c.env), body.model);
    const { row, created } = await createConversation(c.env.DB, {
      id: newId("conv"),
      owner: ownerOf(c.var.caller, body.user),
      externalId: body.external_id ?? null,
      model: model.id,
      systemPrompt: body.system_prompt ?? null,
      metadata: body.metadata ?? {},
      now: Date.now(),
    });
    return c.json(conversationView(row), created ? 201 : 200);
  })
  .get("/", async (c) => {
    const query = parseWith(ListQuery, c.req.query());
    const { rows, hasMore } = await listConversations(c.env.DB, {
      owner: ownerOf(c.var.caller, query.user),
      externalId: query.external_id,
      after: query.after,
      limit: query.limit,
    });
    const body: ConversationList = { object: "list", data: rows.map(conversationView), has_more: hasMore, last_id: rows[rows.length - 1]?.id ?? null };
    return c.json(body);
  })
  .get("/:id", async (c) => {
    const id = conversationId(c.req.param("id"));
    const query = parseWith(UserQuery.strict(), c.req.query());
    const found = await getConversation(c.env.DB, ownerOf(c.var.caller, query.user), id);
    if (!found) throw conversationNotFound(id);
    const body: ConversationWithMessages = { ...conversationView(found.row), messages: found.messages.map(messageView) };
    return c.json(body);
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
    return runConversationTurn(c, { conversationId: id, owner: ownerOf(c.var.caller, body.user), sampling: body, userContent: body.content });
  })
  .post("/:id/regenerate", async (c) => {
    const id = conversationId(c.req.param("id"));
    const body = await readJsonBody(c, RegenerateBody);
    return runConversationTurn(c, { conversationId: id, owner: ownerOf(c.var.caller, body.user), sampling: body, userContent: null });
  });
