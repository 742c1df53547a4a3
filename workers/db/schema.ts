/**
 * The D1 schema, in one place. drizzle-kit generates `migrations/` from this file and wrangler
 * applies them (`wrangler d1 migrations apply`). Times are Unix milliseconds.
 */

import { customType, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * Packed token ids (workers/prompt/stored-tokens.ts). D1 binds a Uint8Array as a BLOB and reads a
 * BLOB back as an array of byte values; the prompt layer takes either, so no conversion here.
 */
const tokenIdsBlob = customType<{ data: ArrayLike<number> | Uint8Array; driverData: ArrayLike<number> | Uint8Array }>({
  dataType: () => "blob",
});

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    role: text("role", { enum: ["admin", "user", "bot"] }).notNull(),
    /** Hex SHA-256 of the plaintext key; the plaintext is never stored. */
    keyHash: text("key_hash").notNull(),
    /** First characters of the key, to tell keys apart in listings. */
    keyPrefix: text("key_prefix").notNull(),
    /** Per-key limit overrides as JSON (see workers/limits), null for the configured defaults. */
    limits: text("limits"),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_key_hash").on(t.keyHash)],
);

export const conversations = sqliteTable(
  "conversations",
  {
    id: text("id").primaryKey(),
    keyId: text("key_id").notNull(),
    /** End user within the key ('' when the key acts for itself). */
    endUser: text("end_user").notNull().default(""),
    externalId: text("external_id"),
    model: text("model").notNull(),
    systemPrompt: text("system_prompt"),
    metadata: text("metadata").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** Turn lock: the request id holding the conversation, and when that hold lapses by itself. */
    busyToken: text("busy_token"),
    busyUntil: integer("busy_until"),
  },
  (t) => [
    uniqueIndex("conversations_external").on(t.keyId, t.endUser, t.externalId),
    index("conversations_owner").on(t.keyId, t.endUser, t.id),
  ],
);

export const messages = sqliteTable(
  "messages",
  {
    id: text("id").primaryKey(),
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    /** Position in the conversation; unique, so a turn can never be stored twice. */
    seq: integer("seq").notNull(),
    role: text("role", { enum: ["user", "assistant"] }).notNull(),
    content: text("content").notNull(),
    status: text("status", { enum: ["complete", "length", "cancelled", "failed"] }),
    /** End user who sent the turn (Discord threads are shared by many users). */
    endUser: text("end_user").notNull().default(""),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    /** Worker that generated it (assistant messages). */
    workerId: text("worker_id"),
    createdAt: integer("created_at").notNull(),
    /**
     * The message's token ids as its prompt piece encodes them, stored by the first turn that
     * tokenized it so later turns do not; token_key says what they encode (tokenizer revision,
     * dummy prefix, width, hash of the exact text), and ids are reused only when it matches.
     * Both null until then.
     */
    tokenKey: text("token_key"),
    tokenIds: tokenIdsBlob("token_ids"),
  },
  (t) => [uniqueIndex("messages_conversation_seq").on(t.conversationId, t.seq)],
);

/** Usage ledger per key, end user, model and UTC day. */
export const usageDaily = sqliteTable(
  "usage_daily",
  {
    keyId: text("key_id").notNull(),
    endUser: text("end_user").notNull().default(""),
    model: text("model").notNull(),
    day: text("day").notNull(),
    requests: integer("requests").notNull().default(0),
    promptTokens: integer("prompt_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull().default(0),
    failures: integer("failures").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.endUser, t.model, t.day] })],
);

/**
 * Batches of buffered usage already added to usage_daily (workers/db/usage-batches.ts): a batch's
 * id is recorded in the same transaction as its counts, so a batch sent twice counts once. Kept
 * a day.
 */
export const usageFlushes = sqliteTable(
  "usage_flushes",
  {
    id: text("id").primaryKey(),
    keyId: text("key_id").notNull(),
    flushedAt: integer("flushed_at").notNull(),
  },
  (t) => [index("usage_flushes_flushed_at").on(t.flushedAt)],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type ConversationRow = typeof conversations.$inferSelect;
/** A message as the API shows it; its stored token ids are read only by a turn (turn-store.ts). */
export type MessageRow = Omit<typeof messages.$inferSelect, "tokenKey" | "tokenIds">;
/** A message as a turn reads it, with its stored token ids. */
export type TurnMessageRow = typeof messages.$inferSelect;
