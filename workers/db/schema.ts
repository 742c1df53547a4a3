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
    /** Whether this key's new conversations consent to training-data export by default (admin, default off). */
    dataSharing: integer("data_sharing", { mode: "boolean" }).notNull().default(false),
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
    /**
     * A side of an arena battle not voted yet: its model would name the side, so the conversations
     * API does not show it (workers/arena/battle-store.ts unseals it with the vote).
     */
    arenaSealed: integer("arena_sealed", { mode: "boolean" }).notNull().default(false),
    /**
     * Consent to export this conversation as training data (workers/routes/admin-export.ts): set
     * at creation from the request or, absent there, its key's data_sharing; changed by an update.
     */
    trainingConsent: integer("training_consent", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    uniqueIndex("conversations_external").on(t.keyId, t.endUser, t.externalId),
    index("conversations_owner").on(t.keyId, t.endUser, t.id),
    // Listing is newest first with (created_at, id) as the cursor.
    index("conversations_owner_created").on(t.keyId, t.endUser, t.createdAt, t.id),
    // The training-data export walks consented conversations oldest first by (created_at, id).
    index("conversations_consented").on(t.trainingConsent, t.createdAt, t.id),
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

/**
 * Feedback on an assistant message, one row per end user who gave it (a Discord thread's reply
 * can be thumbed by many members; '' = the key itself). Cleared feedback deletes the row.
 */
export const messageFeedback = sqliteTable(
  "message_feedback",
  {
    messageId: text("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    endUser: text("end_user").notNull().default(""),
    rating: text("rating", { enum: ["up", "down"] }),
    flagged: integer("flagged", { mode: "boolean" }).notNull().default(false),
    comment: text("comment"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.messageId, t.endUser] }),
    // Moderation lists flagged messages newest first (workers/db/moderation-store.ts).
    index("message_feedback_flagged").on(t.flagged, t.updatedAt),
  ],
);

/**
 * A published read-only snapshot of a conversation: its id is the unguessable part of the share
 * URL. One per conversation; sharing again replaces the snapshot under the same id. Deleting the
 * conversation deletes the share.
 */
export const shares = sqliteTable(
  "shares",
  {
    id: text("id").primaryKey(),
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    /** The model that answered, and the title, as they were when shared. */
    model: text("model").notNull(),
    title: text("title"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("shares_conversation").on(t.conversationId)],
);

/** The messages of a share, copied when it was (re)published: later turns are not in it. */
export const shareMessages = sqliteTable(
  "share_messages",
  {
    shareId: text("share_id")
      .notNull()
      .references(() => shares.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    role: text("role", { enum: ["user", "assistant"] }).notNull(),
    content: text("content").notNull(),
    status: text("status", { enum: ["complete", "length", "cancelled", "failed"] }),
  },
  (t) => [primaryKey({ columns: [t.shareId, t.seq] })],
);

/**
 * Web sessions of API keys (workers/web/): the cookie carries a random session id and its HMAC;
 * only the id's SHA-256 is stored, so a copy of this table signs no one in. Sign-out deletes the
 * row; a revoked key's sessions stop with the key (auth checks the key on every request).
 */
export const webSessions = sqliteTable(
  "web_sessions",
  {
    idHash: text("id_hash").primaryKey(),
    keyId: text("key_id").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("web_sessions_key").on(t.keyId)],
);

/**
 * An arena battle: two sides, each an ordinary conversation of its owner, answering the same
 * questions. Models are stored from the start; the API shows them only after the vote (or once
 * the battle failed and can never be voted).
 */
export const arenaBattles = sqliteTable(
  "arena_battles",
  {
    id: text("id").primaryKey(),
    keyId: text("key_id").notNull(),
    endUser: text("end_user").notNull().default(""),
    conversationA: text("conversation_a").notNull(),
    conversationB: text("conversation_b").notNull(),
    modelA: text("model_a").notNull(),
    modelB: text("model_b").notNull(),
    /** False when the caller named the models: such a vote is kept but not rated. */
    anonymous: integer("anonymous", { mode: "boolean" }).notNull(),
    status: text("status", { enum: ["open", "voted", "failed"] }).notNull(),
    /** Questions both sides have answered. */
    turns: integer("turns").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("arena_battles_owner").on(t.keyId, t.endUser, t.createdAt)],
);

/**
 * One vote per battle (the primary key is the battle's id). Everything the leaderboard needs is
 * copied here, so a fit reads this table alone and a deleted conversation keeps its vote.
 */
export const arenaVotes = sqliteTable(
  "arena_votes",
  {
    battleId: text("battle_id").primaryKey(),
    modelA: text("model_a").notNull(),
    modelB: text("model_b").notNull(),
    winner: text("winner", { enum: ["a", "b", "tie", "bothbad"] }).notNull(),
    turns: integer("turns").notNull(),
    /** SHA-256 of the key and end user: counts votes per voter without naming anyone. */
    voterHash: text("voter_hash").notNull(),
    /** Whether the names were hidden until this vote (only such votes are rated). */
    anonymous: integer("anonymous", { mode: "boolean" }).notNull(),
    /** A side's answers named a model of the battle (its configured identity words) before the vote. */
    identityLeaked: integer("identity_leaked", { mode: "boolean" }).notNull(),
    votedAt: integer("voted_at").notNull(),
  },
  (t) => [index("arena_votes_voted_at").on(t.votedAt)],
);

/** The last computed leaderboard (one row): pages read it, the cron trigger or a stale read rewrites it. */
export const arenaLeaderboard = sqliteTable("arena_leaderboard", {
  id: integer("id").primaryKey(),
  computedAt: integer("computed_at").notNull(),
  /** The ArenaLeaderboard object as served, JSON. */
  body: text("body").notNull(),
});

/** Recorded `npm run eval` runs (routes/admin-evals.ts): the results as the CLI wrote them. */
export const evalRuns = sqliteTable(
  "eval_runs",
  {
    id: text("id").primaryKey(),
    createdAt: integer("created_at").notNull(),
    questionSet: text("question_set").notNull(),
    questionCount: integer("question_count").notNull(),
    mode: text("mode", { enum: ["single", "pairwise"] }).notNull(),
    judgeModel: text("judge_model").notNull(),
    /** results.json, as JSON text. */
    results: text("results").notNull(),
  },
  (t) => [index("eval_runs_created").on(t.createdAt)],
);

/**
 * The dashboard's traffic history: one row per closed minute, written by the GatewayMetrics object
 * (workers/metrics/metrics-do.ts) from the counters every isolate flushes, never per request.
 * Rows older than DASHBOARD_HISTORY_RETENTION_DAYS are deleted by the same writer.
 */
export const metricsMinutes = sqliteTable("metrics_minutes", {
  /** Unix milliseconds, a whole minute. */
  minuteStart: integer("minute_start").primaryKey(),
  /** That minute's counters (workers/metrics/totals.ts Totals) as JSON. */
  totals: text("totals").notNull(),
});

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type ConversationRow = typeof conversations.$inferSelect;
/** A message as the API shows it; its stored token ids are read only by a turn (turn-store.ts). */
export type MessageRow = Omit<typeof messages.$inferSelect, "tokenKey" | "tokenIds">;
/** A message as a turn reads it, with its stored token ids. */
export type TurnMessageRow = typeof messages.$inferSelect;
export type MessageFeedbackRow = typeof messageFeedback.$inferSelect;
export type ShareRow = typeof shares.$inferSelect;
export type WebSessionRow = typeof webSessions.$inferSelect;
export type ArenaBattleRow = typeof arenaBattles.$inferSelect;
export type ArenaVoteRow = typeof arenaVotes.$inferSelect;
export type EvalRunRow = typeof evalRuns.$inferSelect;
