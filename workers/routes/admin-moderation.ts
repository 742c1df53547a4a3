/**
 * Moderation (admin role): `GET /admin/flags` lists flagged assistant messages newest first, each
 * with the messages around it and the key and end user it belongs to; `GET` and `DELETE
 * /admin/conversations/{id}` read and delete any key's conversation. A deleted conversation is
 * gone for its owner too (its messages, feedback and share with it). Shapes: wire/dashboard.ts.
 */
import { Hono } from "hono";
import {
  FLAG_CONTEXT_MESSAGES,
  FlagListQuery,
  type AdminConversation,
  type FlagList,
  type FlaggedMessage,
  type ModeratedMessage,
} from "../../wire/dashboard.js";
import type { AppEnv } from "../app-env.js";
import { requireRole } from "../auth/middleware.js";
import { conversationNotFound } from "../chat/conversation-turn.js";
import { deleteAnyConversation, listFlaggedMessages, readAnyConversation, type FlagCursor, type ModeratedMessageRow } from "../db/moderation-store.js";
import { invalidRequest } from "../errors.js";
import { parseWith } from "../http/json-body.js";
import { conversationId, conversationView, unixSeconds } from "./conversations.js";

function moderatedMessage(row: ModeratedMessageRow): ModeratedMessage {
  return {
    id: row.id,
    object: "conversation.message",
    role: row.role,
    content: row.content,
    status: row.status,
    user: row.endUser === "" ? null : row.endUser,
    created_at: unixSeconds(row.createdAt),
    feedback: { up: row.up, down: row.down, flagged: row.flagged },
  };
}

/** The cursor is `<newest flag time in ms>.<message id>` of the previous page's last item. */
function encodeCursor(cursor: FlagCursor): string {
  return `${cursor.lastFlaggedAt}.${cursor.messageId}`;
}

function decodeCursor(text: string): FlagCursor {
  const match = /^(\d{1,16})\.(msg_[A-Za-z0-9_-]{1,64})$/.exec(text);
  if (!match) throw invalidRequest("`cursor` is not a cursor this API returned; pass `next_cursor` from the previous page.", "cursor", "invalid_value");
  return { lastFlaggedAt: Number(match[1]), messageId: match[2]! };
}

export const adminFlagsRoutes = new Hono<AppEnv>().use(requireRole("admin")).get("/", async (c) => {
  const query = parseWith(FlagListQuery, c.req.query());
  const { items, hasMore } = await listFlaggedMessages(c.env.DB, {
    limit: query.limit,
    cursor: query.cursor === undefined ? null : decodeCursor(query.cursor),
    contextMessages: FLAG_CONTEXT_MESSAGES,
  });
  const data = items.map(
    (item): FlaggedMessage => ({
      object: "moderation.flag",
      message: moderatedMessage(item.message),
      before: item.before.map(moderatedMessage),
      after: item.after.map(moderatedMessage),
      conversation: {
        id: item.conversation.conversationId,
        model: item.conversation.model,
        key_id: item.conversation.keyId,
        key_name: item.conversation.keyName,
        user: item.conversation.endUser === "" ? null : item.conversation.endUser,
        created_at: unixSeconds(item.conversation.createdAt),
      },
      flags: item.flags.map((flag) => ({ user: flag.endUser === "" ? null : flag.endUser, comment: flag.comment, flagged_at: unixSeconds(flag.updatedAt) })),
      last_flagged_at: unixSeconds(item.lastFlaggedAt),
    }),
  );
  const last = items[items.length - 1];
  const body: FlagList = {
    object: "list",
    data,
    has_more: hasMore,
    next_cursor: hasMore && last ? encodeCursor({ lastFlaggedAt: last.lastFlaggedAt, messageId: last.message.id }) : null,
  };
  return c.json(body);
});

export const adminConversationsRoutes = new Hono<AppEnv>()
  .use(requireRole("admin"))
  .get("/:id", async (c) => {
    const id = conversationId(c.req.param("id"));
    const found = await readAnyConversation(c.env.DB, id);
    if (!found) throw conversationNotFound(id);
    const body: AdminConversation = {
      ...conversationView(found.row),
      key_id: found.row.keyId,
      key_name: found.keyName,
      messages: found.messages.map(moderatedMessage),
    };
    return c.json(body);
  })
  .delete("/:id", async (c) => {
    const id = conversationId(c.req.param("id"));
    if (!(await deleteAnyConversation(c.env.DB, id))) throw conversationNotFound(id);
    return c.json({ id, object: "conversation.deleted" as const, deleted: true as const });
  });
