/**
 * D1 reads and deletes for moderation (admin only): any key's conversation with every end user's
 * feedback summed per message, and flagged assistant messages newest first with the messages
 * around them. Unlike conversation-store.ts there is no owner filter: the route admits admins only.
 */
import { z } from "zod";
import { MessageStatus } from "../../wire/conversations.js";
import { drizzle } from "drizzle-orm/d1";
import { eq, getTableColumns } from "drizzle-orm";
import { apiKeys, conversations, type ConversationRow } from "./schema.js";

const Count = z.coerce.number().int();

/** A message with the feedback of every end user summed. */
const ModeratedMessageRow = z.object({
  id: z.string(),
  conversationId: z.string(),
  seq: z.number().int(),
  role: z.enum(["user", "assistant"]),
  content: z.string(),
  status: MessageStatus.nullable(),
  endUser: z.string(),
  createdAt: z.number().int(),
  up: Count,
  down: Count,
  flagged: Count,
});
export type ModeratedMessageRow = z.infer<typeof ModeratedMessageRow>;

/** `m` the message, `f` its feedback rows (LEFT JOIN), grouped by m.id. */
const MESSAGE_COLUMNS = `m.id, m.conversation_id AS conversationId, m.seq, m.role, m.content, m.status, m.end_user AS endUser,
  m.created_at AS createdAt, COALESCE(SUM(f.rating = 'up'), 0) AS up, COALESCE(SUM(f.rating = 'down'), 0) AS down,
  COALESCE(SUM(f.flagged), 0) AS flagged`;

export interface AdminConversationRead {
  row: ConversationRow;
  keyName: string | null;
  messages: ModeratedMessageRow[];
}

/** Any key's conversation (also an arena side still sealed) and its messages, oldest first. */
export async function readAnyConversation(db: D1Database, id: string): Promise<AdminConversationRead | null> {
  const [found, messages] = await Promise.all([
    drizzle(db)
      .select({ row: getTableColumns(conversations), keyName: apiKeys.name })
      .from(conversations)
      .leftJoin(apiKeys, eq(apiKeys.id, conversations.keyId))
      .where(eq(conversations.id, id))
      .get(),
    db
      .prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages m LEFT JOIN message_feedback f ON f.message_id = m.id WHERE m.conversation_id = ?1 GROUP BY m.id ORDER BY m.seq`)
      .bind(id)
      .all(),
  ]);
  if (!found) return null;
  return { row: found.row, keyName: found.keyName, messages: z.array(ModeratedMessageRow).parse(messages.results) };
}

/** Deletes any key's conversation; its messages, feedback and share go with it (foreign-key cascades). False when there is none. */
export async function deleteAnyConversation(db: D1Database, id: string): Promise<boolean> {
  const deleted = await drizzle(db).delete(conversations).where(eq(conversations.id, id)).returning({ id: conversations.id });
  return deleted.length > 0;
}

/** Where a page of flagged messages starts: after this (newest flag time, message id), in descending order. */
export interface FlagCursor {
  lastFlaggedAt: number;
  messageId: string;
}

const FlagPageRow = z.object({ messageId: z.string(), lastFlaggedAt: z.number().int() });
const FlagRow = z.object({ messageId: z.string(), endUser: z.string(), comment: z.string().nullable(), updatedAt: z.number().int() });
const TargetRow = z.object({
  messageId: z.string(),
  conversationId: z.string(),
  model: z.string(),
  keyId: z.string(),
  keyName: z.string().nullable(),
  endUser: z.string(),
  createdAt: z.number().int(),
});
const ContextRow = ModeratedMessageRow.extend({ targetId: z.string() });

export interface FlaggedRead {
  message: ModeratedMessageRow;
  before: ModeratedMessageRow[];
  after: ModeratedMessageRow[];
  conversation: z.infer<typeof TargetRow>;
  flags: z.infer<typeof FlagRow>[];
  lastFlaggedAt: number;
}

/**
 * Flagged messages (flagged by at least one end user), newest flag first, with up to
 * `contextMessages` messages on each side. Two round trips: the page of ids, then one batch for
 * their flags, conversations and context. A message deleted between the two is left out.
 */
export async function listFlaggedMessages(
  db: D1Database,
  input: { limit: number; cursor: FlagCursor | null; contextMessages: number },
): Promise<{ items: FlaggedRead[]; hasMore: boolean }> {
  const page = await db
    .prepare(
      `SELECT message_id AS messageId, MAX(updated_at) AS lastFlaggedAt FROM message_feedback WHERE flagged = 1
       GROUP BY message_id
       HAVING ?1 IS NULL OR MAX(updated_at) < ?1 OR (MAX(updated_at) = ?1 AND message_id < ?2)
       ORDER BY lastFlaggedAt DESC, messageId DESC LIMIT ?3`,
    )
    .bind(input.cursor?.lastFlaggedAt ?? null, input.cursor?.messageId ?? "", input.limit + 1)
    .all();
  const rows = z.array(FlagPageRow).parse(page.results);
  const hasMore = rows.length > input.limit;
  const pageRows = rows.slice(0, input.limit);
  if (pageRows.length === 0) return { items: [], hasMore: false };
  const ids = JSON.stringify(pageRows.map((row) => row.messageId));
  const [flags, targets, context] = await db.batch([
    db
      .prepare(
        `SELECT message_id AS messageId, end_user AS endUser, comment, updated_at AS updatedAt FROM message_feedback
         WHERE flagged = 1 AND message_id IN (SELECT value FROM json_each(?1)) ORDER BY updated_at DESC, end_user`,
      )
      .bind(ids),
    db
      .prepare(
        `SELECT m.id AS messageId, c.id AS conversationId, c.model, c.key_id AS keyId, k.name AS keyName, c.end_user AS endUser, c.created_at AS createdAt
         FROM messages m JOIN conversations c ON c.id = m.conversation_id LEFT JOIN api_keys k ON k.id = c.key_id
         WHERE m.id IN (SELECT value FROM json_each(?1))`,
      )
      .bind(ids),
    db
      .prepare(
        `SELECT t.id AS targetId, ${MESSAGE_COLUMNS} FROM messages t
         JOIN messages m ON m.conversation_id = t.conversation_id AND m.seq BETWEEN t.seq - ?2 AND t.seq + ?2
         LEFT JOIN message_feedback f ON f.message_id = m.id
         WHERE t.id IN (SELECT value FROM json_each(?1)) GROUP BY t.id, m.id ORDER BY m.seq`,
      )
      .bind(ids, input.contextMessages),
  ]);
  const flagRows = z.array(FlagRow).parse(flags?.results ?? []);
  const targetRows = new Map(z.array(TargetRow).parse(targets?.results ?? []).map((row) => [row.messageId, row]));
  const contextRows = z.array(ContextRow).parse(context?.results ?? []);
  const items: FlaggedRead[] = [];
  for (const { messageId, lastFlaggedAt } of pageRows) {
    const conversation = targetRows.get(messageId);
    const around = contextRows.filter((row) => row.targetId === messageId).map(({ targetId: _targetId, ...row }) => row);
    const message = around.find((row) => row.id === messageId);
    if (!conversation || !message) continue;
    items.push({
      message,
      before: around.filter((row) => row.seq < message.seq),
      after: around.filter((row) => row.seq > message.seq),
      conversation,
      flags: flagRows.filter((row) => row.messageId === messageId),
      lastFlaggedAt,
    });
  }
  return { items, hasMore };
}
