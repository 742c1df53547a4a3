/**
 * Share links: a read-only snapshot of a conversation, copied into share_messages when it is
 * (re)published, so later turns, edits and deletes of the conversation do not show until it is
 * shared again. Each write is one D1 batch of bound SQL (one transaction): a reader sees the old
 * snapshot or the new one, never a mix. Deleting the share (or the conversation) deletes the
 * snapshot by the foreign keys' cascade.
 */
import type { MessageStatus } from "../../wire/conversations.js";
import { notSealedSql, visibleEndUserSql, type Owner } from "./conversation-store.js";
import type { ShareRow } from "./schema.js";

export interface ShareInfo {
  share: ShareRow;
  messageCount: number;
}

const SHARE_COLUMNS = `s.id AS id, s.conversation_id AS conversationId, s.model AS model, s.title AS title, s.created_at AS createdAt`;
/** The owner can see conversation ?1: ?2 key, ?3 end user (an end user also sees its key's shared ones). */
const OWNED = `c.id = ?1 AND c.key_id = ?2 AND ${visibleEndUserSql("c.end_user", "?3")} AND ${notSealedSql("c.")}`;

function shareInfoStatement(db: D1Database, owner: Owner, conversationId: string): D1PreparedStatement {
  return db
    .prepare(
      `SELECT ${SHARE_COLUMNS}, (SELECT COUNT(*) FROM share_messages sm WHERE sm.share_id = s.id) AS messageCount
       FROM shares s JOIN conversations c ON c.id = s.conversation_id WHERE ${OWNED}`,
    )
    .bind(conversationId, owner.keyId, owner.endUser);
}

function toInfo(row: (ShareRow & { messageCount: number }) | undefined): ShareInfo | null {
  if (!row) return null;
  const { messageCount, ...share } = row;
  return { share, messageCount };
}

/**
 * Publishes (or refreshes) the snapshot of a conversation the owner can see. The first share
 * takes `newId`; sharing again keeps the existing id, so a link already handed out now shows the
 * new snapshot. The title is the conversation's `metadata.title`. null: no such conversation.
 */
export async function shareConversation(
  db: D1Database,
  input: { owner: Owner; conversationId: string; newId: string; now: number },
): Promise<{ info: ShareInfo; created: boolean } | null> {
  const owned = [input.conversationId, input.owner.keyId, input.owner.endUser] as const;
  const results = await db.batch([
    db
      .prepare(
        `INSERT INTO shares (id, conversation_id, model, title, created_at)
         SELECT ?4, c.id, c.model, json_extract(c.metadata, '$.title'), ?5 FROM conversations c WHERE ${OWNED}
         ON CONFLICT (conversation_id) DO UPDATE SET model = excluded.model, title = excluded.title, created_at = excluded.created_at`,
      )
      .bind(...owned, input.newId, input.now),
    // The old snapshot goes, the current messages come in: guarded by ownership like the insert,
    // so a caller who cannot see the conversation changes no one's snapshot.
    db
      .prepare(`DELETE FROM share_messages WHERE share_id = (SELECT s.id FROM shares s JOIN conversations c ON c.id = s.conversation_id WHERE ${OWNED})`)
      .bind(...owned),
    db
      .prepare(
        `INSERT INTO share_messages (share_id, seq, role, content, status)
         SELECT s.id, m.seq, m.role, m.content, m.status
         FROM messages m JOIN shares s ON s.conversation_id = m.conversation_id JOIN conversations c ON c.id = m.conversation_id
         WHERE ${OWNED}`,
      )
      .bind(...owned),
    shareInfoStatement(db, input.owner, input.conversationId),
  ]);
  const info = toInfo(results[3]?.results[0] as (ShareRow & { messageCount: number }) | undefined);
  return info ? { info, created: info.share.id === input.newId } : null;
}

/** The conversation's share, if it has one and the owner can see the conversation. */
export async function getShareOf(db: D1Database, owner: Owner, conversationId: string): Promise<ShareInfo | null> {
  const row = await shareInfoStatement(db, owner, conversationId).first<ShareRow & { messageCount: number }>();
  return toInfo(row ?? undefined);
}

/** Revokes the conversation's share (its snapshot goes with it); the share's id, or null when there was none. */
export async function revokeShare(db: D1Database, owner: Owner, conversationId: string): Promise<string | null> {
  const row = await db
    .prepare(`DELETE FROM shares WHERE conversation_id = ?1 AND EXISTS (SELECT 1 FROM conversations c WHERE ${OWNED}) RETURNING id`)
    .bind(conversationId, owner.keyId, owner.endUser)
    .first<{ id: string }>();
  return row?.id ?? null;
}

export interface PublicShare {
  share: ShareRow;
  messages: { role: "user" | "assistant"; content: string; status: MessageStatus | null }[];
}

/** A share as anyone with its id reads it; null when it does not exist or was revoked. */
export async function readShare(db: D1Database, shareId: string): Promise<PublicShare | null> {
  const [share, messages] = await db.batch([
    db.prepare(`SELECT ${SHARE_COLUMNS} FROM shares s WHERE s.id = ?1`).bind(shareId),
    db.prepare(`SELECT role, content, status FROM share_messages WHERE share_id = ?1 ORDER BY seq`).bind(shareId),
  ]);
  const row = share?.results[0] as ShareRow | undefined;
  if (!row) return null;
  return { share: row, messages: (messages?.results ?? []) as PublicShare["messages"] };
}
