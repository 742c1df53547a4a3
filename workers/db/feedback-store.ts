/**
 * Feedback on assistant messages (thumbs up/down, a flag, a comment), one row per message and end
 * user. Written as one D1 batch of bound SQL: the merge ("a field left out stays as it was"), the
 * delete of a row that is now empty, and the read-back happen in one transaction, so two clicks
 * racing each other never leave a half-merged row.
 */
import { notSealedSql, visibleEndUserSql, type Owner } from "./conversation-store.js";
import type { MessageFeedbackRow } from "./schema.js";

/** Fields to change; `undefined` = leave as stored. */
export interface FeedbackChange {
  rating?: "up" | "down" | null;
  flagged?: boolean;
  comment?: string | null;
}

export type SetFeedbackResult =
  | { kind: "ok"; row: MessageFeedbackRow | null }
  | { kind: "not-found" }
  | { kind: "not-assistant" };

const FEEDBACK_COLUMNS = `message_id AS messageId, end_user AS endUser, rating, flagged, comment, updated_at AS updatedAt`;

/** The message, if the owner can see its conversation: ?1 message, ?2 conversation, ?3 key, ?4 end user. */
const TARGET = `FROM messages m JOIN conversations c ON c.id = m.conversation_id
  WHERE m.id = ?1 AND m.conversation_id = ?2 AND c.key_id = ?3 AND ${visibleEndUserSql("c.end_user", "?4")} AND ${notSealedSql("c.")}`;

/**
 * Merges a change into the owner's feedback on an assistant message. Feedback that ends up empty
 * (no rating, not flagged, no comment) is deleted: "cleared" stores nothing.
 */
export async function setFeedback(
  db: D1Database,
  input: { owner: Owner; conversationId: string; messageId: string; change: FeedbackChange; now: number },
): Promise<SetFeedbackResult> {
  const { change } = input;
  const target = [input.messageId, input.conversationId, input.owner.keyId, input.owner.endUser] as const;
  // ?5..?10: whether each field is being set, and its new value. A new row takes the defaults
  // for fields left out; an existing row keeps its own.
  const values = [
    change.rating !== undefined ? 1 : 0,
    change.rating ?? null,
    change.flagged !== undefined ? 1 : 0,
    change.flagged ? 1 : 0,
    change.comment !== undefined ? 1 : 0,
    change.comment ?? null,
    input.now,
  ] as const;
  const results = await db.batch([
    db.prepare(`SELECT m.role AS role ${TARGET}`).bind(...target),
    // `WHERE` before ON CONFLICT also keeps SQLite's parser from reading the upsert as a join.
    db
      .prepare(
        `INSERT INTO message_feedback (message_id, end_user, rating, flagged, comment, updated_at)
         SELECT ?1, ?4, CASE WHEN ?5 THEN ?6 END, CASE WHEN ?7 THEN ?8 ELSE 0 END, CASE WHEN ?9 THEN ?10 END, ?11
         ${TARGET} AND m.role = 'assistant'
         ON CONFLICT (message_id, end_user) DO UPDATE SET
           rating = CASE WHEN ?5 THEN ?6 ELSE rating END,
           flagged = CASE WHEN ?7 THEN ?8 ELSE flagged END,
           comment = CASE WHEN ?9 THEN ?10 ELSE comment END,
           updated_at = ?11`,
      )
      .bind(...target, ...values),
    db
      .prepare(`DELETE FROM message_feedback WHERE message_id = ?1 AND end_user = ?2 AND rating IS NULL AND flagged = 0 AND comment IS NULL`)
      .bind(input.messageId, input.owner.endUser),
    db.prepare(`SELECT ${FEEDBACK_COLUMNS} FROM message_feedback WHERE message_id = ?1 AND end_user = ?2`).bind(input.messageId, input.owner.endUser),
  ]);
  const message = results[0]?.results[0] as { role: string } | undefined;
  if (!message) return { kind: "not-found" };
  if (message.role !== "assistant") return { kind: "not-assistant" };
  const row = results[3]?.results[0] as (Omit<MessageFeedbackRow, "flagged"> & { flagged: number }) | undefined;
  return { kind: "ok", row: row ? { ...row, flagged: row.flagged !== 0 } : null };
}

/** Feedback rows counted by kind: thumbs up, thumbs down, flagged (a row may be both rated and flagged). */
export interface FeedbackTally {
  up: number;
  down: number;
  flagged: number;
}

/** Every feedback row counted, and those changed since `since` (Unix ms), in one query. */
export async function countFeedback(db: D1Database, since: number): Promise<{ total: FeedbackTally; recent: FeedbackTally }> {
  const row = await db
    .prepare(
      `SELECT COALESCE(SUM(rating = 'up'), 0) AS up, COALESCE(SUM(rating = 'down'), 0) AS down, COALESCE(SUM(flagged), 0) AS flagged,
         COALESCE(SUM(rating = 'up' AND updated_at >= ?1), 0) AS recentUp, COALESCE(SUM(rating = 'down' AND updated_at >= ?1), 0) AS recentDown,
         COALESCE(SUM(flagged = 1 AND updated_at >= ?1), 0) AS recentFlagged
       FROM message_feedback`,
    )
    .bind(since)
    .first<Record<"up" | "down" | "flagged" | "recentUp" | "recentDown" | "recentFlagged", number>>();
  return {
    total: { up: row?.up ?? 0, down: row?.down ?? 0, flagged: row?.flagged ?? 0 },
    recent: { up: row?.recentUp ?? 0, down: row?.recentDown ?? 0, flagged: row?.recentFlagged ?? 0 },
  };
}
