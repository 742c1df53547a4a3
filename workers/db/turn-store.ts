/**
 * The two D1 batches of a conversation turn — one before the request leaves for the GPU, one
 * after — written as bound SQL so each is a single round trip and a single transaction.
 *
 * Before: take the conversation's turn lock, append the user message only if the lock is ours,
 * and read the conversation and its messages (with their stored token ids). After: store the
 * assistant message and the usage, the token ids the turn computed, and release the lock. The
 * after-batch is idempotent (keyed by the assistant message id), so it can be retried when D1
 * fails after the GPU has answered.
 */
import type { MessageStatus } from "../../wire/conversations.js";
import type { ConversationRow, TurnMessageRow } from "./schema.js";
import { visibleEndUserSql, type Owner } from "./conversation-store.js";

export interface BeginTurnInput {
  owner: Owner;
  conversationId: string;
  /** Unique per request: the lock token. */
  requestId: string;
  /** The user message to append, or null for a regenerate. */
  userMessage: { id: string; content: string } | null;
  now: number;
  lockMs: number;
  /**
   * Whether the conversation is a side of an arena battle waiting for its vote: battle turns
   * reach only those, the conversations API only the others.
   */
  arenaSealed: boolean;
}

export type BeginTurnResult =
  | { kind: "ok"; conversation: ConversationRow; messages: TurnMessageRow[] }
  | { kind: "not-found" }
  | { kind: "busy" };

const CONVERSATION_COLUMNS = `id, key_id AS keyId, end_user AS endUser, external_id AS externalId, model,
  system_prompt AS systemPrompt, metadata, created_at AS createdAt, updated_at AS updatedAt,
  busy_token AS busyToken, busy_until AS busyUntil, arena_sealed AS arenaSealed, training_consent AS trainingConsent`;
const MESSAGE_COLUMNS = `id, conversation_id AS conversationId, seq, role, content, status, end_user AS endUser,
  prompt_tokens AS promptTokens, completion_tokens AS completionTokens, worker_id AS workerId, created_at AS createdAt,
  token_key AS tokenKey, token_ids AS tokenIds`;
const VISIBLE_TO_OWNER = `key_id = ?2 AND ${visibleEndUserSql("end_user", "?3")}`;

/** Locks the conversation for this request and appends the user message, in one batch. */
export async function beginTurn(db: D1Database, input: BeginTurnInput): Promise<BeginTurnResult> {
  const visible = `${VISIBLE_TO_OWNER} AND arena_sealed = ${input.arenaSealed ? 1 : 0}`;
  const lock = db
    .prepare(
      `UPDATE conversations SET busy_token = ?4, busy_until = ?5, updated_at = ?6
       WHERE id = ?1 AND ${visible} AND (busy_token IS NULL OR busy_until < ?6)`,
    )
    .bind(input.conversationId, input.owner.keyId, input.owner.endUser, input.requestId, input.now + input.lockMs, input.now);
  const statements = [lock];
  if (input.userMessage) {
    statements.push(
      db
        .prepare(
          `INSERT INTO messages (id, conversation_id, seq, role, content, status, end_user, created_at)
           SELECT ?1, ?2, COALESCE((SELECT MAX(seq) FROM messages WHERE conversation_id = ?2), 0) + 1, 'user', ?3, NULL, ?4, ?5
           WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?2 AND busy_token = ?6)`,
        )
        .bind(input.userMessage.id, input.conversationId, input.userMessage.content, input.owner.endUser, input.now, input.requestId),
    );
  }
  statements.push(
    db.prepare(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1 AND ${visible}`).bind(input.conversationId, input.owner.keyId, input.owner.endUser),
    db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 ORDER BY seq`).bind(input.conversationId),
  );
  const results = await db.batch(statements);
  const conversation = results[results.length - 2]?.results[0] as ConversationRow | undefined;
  const messages = (results[results.length - 1]?.results ?? []) as TurnMessageRow[];
  if (!conversation) return { kind: "not-found" };
  if (conversation.busyToken !== input.requestId) return { kind: "busy" };
  return { kind: "ok", conversation, messages };
}

export interface TurnUsage {
  promptTokens: number;
  completionTokens: number;
  failed: boolean;
}

export interface FinishTurnInput {
  owner: Owner;
  conversationId: string;
  requestId: string;
  model: string;
  /** The assistant message to store. */
  assistant: {
    id: string;
    content: string;
    status: MessageStatus;
    workerId: string | null;
    /** A regenerate replaces this earlier reply. */
    replacesMessageId: string | null;
  };
  /**
   * Edit and resend: the replaced user message and its replies, removed in the batch that stores
   * the reply — not before, so a turn that fails before its first token loses nothing.
   */
  removedMessageIds?: readonly string[];
  usage: TurnUsage;
  /** Token ids the turn computed for messages that had none, stored with them in the same batch. */
  messageTokens: ReadonlyArray<{ messageId: string; key: string; bytes: Uint8Array }>;
  now: number;
}

/** UTC day of a timestamp, the usage ledger's bucket. */
export function usageDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/**
 * The usage ledger's one upsert: a request (and its tokens, and whether it failed) added to the
 * owner's row for the model and day — only `when` the guard holds, so a retried batch or a turn
 * whose lock is no longer ours counts nothing. The guard's SQL uses parameters from ?8 on.
 */
function usageStatement(
  db: D1Database,
  input: { owner: Owner; model: string; now: number; usage: TurnUsage },
  when: { sql: string; params: unknown[] } | null,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO usage_daily (key_id, end_user, model, day, requests, prompt_tokens, completion_tokens, failures)
       SELECT ?1, ?2, ?3, ?4, 1, ?5, ?6, ?7 ${when ? `WHERE ${when.sql}` : ""}
       ON CONFLICT (key_id, end_user, model, day) DO UPDATE SET
         requests = requests + 1, prompt_tokens = prompt_tokens + excluded.prompt_tokens,
         completion_tokens = completion_tokens + excluded.completion_tokens, failures = failures + excluded.failures`,
    )
    .bind(
      input.owner.keyId,
      input.owner.endUser,
      input.model,
      usageDay(input.now),
      input.usage.promptTokens,
      input.usage.completionTokens,
      input.usage.failed ? 1 : 0,
      ...(when?.params ?? []),
    );
}

/**
 * Stores the reply and usage and releases the lock, in one batch. Idempotent: when the assistant
 * message already exists (a retry after a lost acknowledgement), nothing is counted twice.
 */
export async function finishTurn(db: D1Database, input: FinishTurnInput): Promise<void> {
  const a = input.assistant;
  // The usage row is written first and only while the reply is not yet stored.
  const statements: D1PreparedStatement[] = [usageStatement(db, input, { sql: "NOT EXISTS (SELECT 1 FROM messages WHERE id = ?8)", params: [a.id] })];
  if (a.replacesMessageId) {
    statements.push(
      db
        .prepare(`DELETE FROM messages WHERE id = ?1 AND conversation_id = ?2 AND NOT EXISTS (SELECT 1 FROM messages WHERE id = ?3)`)
        .bind(a.replacesMessageId, input.conversationId, a.id),
    );
  }
  if (input.removedMessageIds && input.removedMessageIds.length > 0) {
    statements.push(
      db
        .prepare(
          `DELETE FROM messages WHERE conversation_id = ?2 AND id IN (SELECT value FROM json_each(?1))
           AND NOT EXISTS (SELECT 1 FROM messages WHERE id = ?3)`,
        )
        .bind(JSON.stringify(input.removedMessageIds), input.conversationId, a.id),
    );
  }
  statements.push(
    db
      .prepare(
        `INSERT INTO messages (id, conversation_id, seq, role, content, status, end_user, prompt_tokens, completion_tokens, worker_id, created_at)
         SELECT ?1, ?2, COALESCE((SELECT MAX(seq) FROM messages WHERE conversation_id = ?2), 0) + 1, 'assistant', ?3, ?4, ?5, ?6, ?7, ?8, ?9
         WHERE NOT EXISTS (SELECT 1 FROM messages WHERE id = ?1)`,
      )
      .bind(a.id, input.conversationId, a.content, a.status, input.owner.endUser, input.usage.promptTokens, input.usage.completionTokens, a.workerId, input.now),
  );
  // Ids are what the message's text encodes to, the same whoever writes them: rewriting them (a
  // retried batch, two turns that both encoded a message) changes nothing.
  for (const t of input.messageTokens) {
    statements.push(
      db.prepare(`UPDATE messages SET token_key = ?3, token_ids = ?4 WHERE id = ?1 AND conversation_id = ?2`).bind(t.messageId, input.conversationId, t.key, t.bytes),
    );
  }
  statements.push(releaseStatement(db, input.conversationId, input.requestId, input.now));
  await db.batch(statements);
}

function releaseStatement(db: D1Database, conversationId: string, requestId: string, now: number): D1PreparedStatement {
  return db
    .prepare(`UPDATE conversations SET busy_token = NULL, busy_until = NULL, updated_at = ?3 WHERE id = ?1 AND busy_token = ?2`)
    .bind(conversationId, requestId, now);
}

/**
 * Undoes a turn that produced nothing: removes the user message it appended, releases the lock
 * and, when the turn reached an upstream, counts the failure in the usage ledger — one batch.
 */
export async function abandonTurn(
  db: D1Database,
  input: { owner: Owner; conversationId: string; requestId: string; userMessageId: string | null; model: string; countFailure: boolean; now: number },
): Promise<void> {
  const statements: D1PreparedStatement[] = [];
  if (input.userMessageId) {
    statements.push(
      db
        .prepare(`DELETE FROM messages WHERE id = ?1 AND EXISTS (SELECT 1 FROM conversations WHERE id = ?2 AND busy_token = ?3)`)
        .bind(input.userMessageId, input.conversationId, input.requestId),
    );
  }
  if (input.countFailure) {
    const failed = { promptTokens: 0, completionTokens: 0, failed: true };
    statements.push(
      usageStatement(db, { ...input, usage: failed }, { sql: "EXISTS (SELECT 1 FROM conversations WHERE id = ?8 AND busy_token = ?9)", params: [input.conversationId, input.requestId] }),
    );
  }
  statements.push(releaseStatement(db, input.conversationId, input.requestId, input.now));
  await db.batch(statements);
}
