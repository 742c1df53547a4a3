/**
 * D1 access for conversations and their messages. Functions take the database so tests can seed
 * without HTTP. Ownership: a conversation belongs to a key and an end user ('' = the key itself);
 * an end user of a bot key sees its own conversations and the key's shared ones ('' end user).
 */
import { and, desc, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { conversations, messageFeedback, messages, type ConversationRow, type MessageFeedbackRow, type MessageRow } from "./schema.js";

/** Who is asking: the key and the end user acting through it. */
export interface Owner {
  keyId: string;
  endUser: string;
}

/**
 * End users in this namespace are the web page's anonymous public-demo visitors
 * (workers/web/cookie-auth.ts): their conversations are private to each, and unlike other end
 * users they do not see the key's shared ('') conversations.
 */
export const VISITOR_END_USER_PREFIX = "web:";

/** The end users whose conversations an owner sees: its own, and the key's shared ones unless it is a visitor. */
export function visibleEndUsers(owner: Owner): string[] {
  if (owner.endUser === "") return [""];
  return owner.endUser.startsWith(VISITOR_END_USER_PREFIX) ? [owner.endUser] : [owner.endUser, ""];
}

/**
 * The same rule in SQL, for the stores that write their own: `column` is the conversation's
 * end_user column and `param` the placeholder bound to the owner's end user.
 */
export function visibleEndUserSql(column: string, param: string): string {
  return `(${column} = ${param} OR (${column} = '' AND substr(${param}, 1, ${VISITOR_END_USER_PREFIX.length}) <> '${VISITOR_END_USER_PREFIX}'))`;
}

/**
 * Conversations the conversations API may show: not a side of an arena battle still waiting for
 * its vote, whose model would name the side (workers/arena/battle-store.ts reaches those).
 * `alias` is the conversations table's alias in the query, with its dot ("c.") or "".
 */
export function notSealedSql(alias: string): string {
  return `${alias}arena_sealed = 0`;
}

function visibleTo(owner: Owner) {
  return and(eq(conversations.keyId, owner.keyId), inArray(conversations.endUser, visibleEndUsers(owner)), eq(conversations.arenaSealed, false));
}

/**
 * A key's data-sharing setting inside a write: a new conversation's consent when the request does
 * not give one (0 for the bootstrap admin, which has no row). Read in the INSERT itself, so an
 * admin's change applies to the next conversation, whatever an isolate has cached of the key.
 */
export function keyDataSharingSql(keyId: string) {
  return sql<boolean>`COALESCE((SELECT data_sharing FROM api_keys WHERE id = ${keyId}), 0)`;
}

export interface NewConversation {
  id: string;
  /** Consent to export as training data; absent or null = the key's data-sharing setting. */
  trainingConsent?: boolean | null;
  /** A side of an arena battle, hidden until its vote; default false. */
  arenaSealed?: boolean;
  owner: Owner;
  externalId: string | null;
  model: string;
  systemPrompt: string | null;
  metadata: Record<string, string>;
  now: number;
}

/**
 * Creates a conversation; with an external id that already exists for this owner, returns the
 * existing one instead (`created: false`), so a bot can map a thread idempotently.
 */
export async function createConversation(db: D1Database, input: NewConversation): Promise<{ row: ConversationRow; created: boolean }> {
  const d = drizzle(db);
  const inserted = await d
    .insert(conversations)
    .values({
      id: input.id,
      keyId: input.owner.keyId,
      endUser: input.owner.endUser,
      externalId: input.externalId,
      model: input.model,
      systemPrompt: input.systemPrompt,
      metadata: JSON.stringify(input.metadata),
      createdAt: input.now,
      updatedAt: input.now,
      arenaSealed: input.arenaSealed ?? false,
      trainingConsent: input.trainingConsent ?? keyDataSharingSql(input.owner.keyId),
    })
    .onConflictDoNothing()
    .returning();
  if (inserted[0]) return { row: inserted[0], created: true };
  const existing = await d
    .select()
    .from(conversations)
    .where(
      and(
        eq(conversations.keyId, input.owner.keyId),
        eq(conversations.endUser, input.owner.endUser),
        eq(conversations.externalId, input.externalId ?? ""),
      ),
    )
    .get();
  if (!existing) throw new Error("conversation insert conflicted but no existing row was found");
  return { row: existing, created: false };
}

export type ListResult = { kind: "ok"; rows: ConversationRow[]; hasMore: boolean } | { kind: "unknown-cursor" };

/**
 * A page of the owner's conversations, newest first by (created_at, id): two conversations created
 * in the same millisecond still have one order, so the cursor (`after`, the previous page's last
 * id) neither skips nor repeats one. The cursor's position is read in the same round trip; a
 * cursor the owner cannot see (deleted, or never theirs) is reported, not treated as the start.
 */
export async function listConversations(
  db: D1Database,
  query: { owner: Owner; externalId?: string; after?: string; limit: number },
): Promise<ListResult> {
  const d = drizzle(db);
  const conditions = [visibleTo(query.owner)];
  if (query.externalId !== undefined) conditions.push(eq(conversations.externalId, query.externalId));
  const after = query.after;
  if (after !== undefined) {
    const endUsers = visibleEndUsers(query.owner);
    // SQLite row values: strictly before the cursor in (created_at desc, id desc) order.
    conditions.push(
      sql`(${conversations.createdAt}, ${conversations.id}) < (SELECT cursor.created_at, cursor.id FROM conversations AS cursor
        WHERE cursor.id = ${after} AND cursor.key_id = ${query.owner.keyId} AND cursor.end_user IN (${sql.join(endUsers.map((u) => sql`${u}`), sql`, `)}))`,
    );
  }
  const page = d
    .select()
    .from(conversations)
    .where(and(...conditions))
    .orderBy(desc(conversations.createdAt), desc(conversations.id))
    .limit(query.limit + 1);
  if (after === undefined) {
    const rows = await page.all();
    return { kind: "ok", rows: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
  }
  const [cursor, rows] = await d.batch([
    d.select({ id: conversations.id }).from(conversations).where(and(eq(conversations.id, after), visibleTo(query.owner))),
    page,
  ]);
  if (cursor.length === 0) return { kind: "unknown-cursor" };
  return { kind: "ok", rows: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
}

/** Replaces a conversation's metadata and/or sets its consent; null when the owner has no such conversation. */
export async function updateConversation(
  db: D1Database,
  input: { owner: Owner; id: string; metadata?: Record<string, string>; trainingConsent?: boolean; now: number },
): Promise<ConversationRow | null> {
  const updated = await drizzle(db)
    .update(conversations)
    .set({
      ...(input.metadata === undefined ? {} : { metadata: JSON.stringify(input.metadata) }),
      ...(input.trainingConsent === undefined ? {} : { trainingConsent: input.trainingConsent }),
      updatedAt: input.now,
    })
    .where(and(eq(conversations.id, input.id), visibleTo(input.owner)))
    .returning();
  return updated[0] ?? null;
}

// Every message column but the stored token ids, which only a turn reads.
const { tokenKey: _tokenKey, tokenIds: _tokenIds, ...MESSAGE_VIEW_COLUMNS } = getTableColumns(messages);

export interface ConversationRead {
  row: ConversationRow;
  messages: MessageRow[];
  /** The owner's end user's own feedback, by message id. */
  feedback: Map<string, MessageFeedbackRow>;
}

export async function getConversation(db: D1Database, owner: Owner, id: string): Promise<ConversationRead | null> {
  const d = drizzle(db);
  const [conv, msgs, feedback] = await d.batch([
    d.select().from(conversations).where(and(eq(conversations.id, id), visibleTo(owner))),
    d.select(MESSAGE_VIEW_COLUMNS).from(messages).where(eq(messages.conversationId, id)).orderBy(messages.seq),
    d
      .select(getTableColumns(messageFeedback))
      .from(messageFeedback)
      .innerJoin(messages, eq(messages.id, messageFeedback.messageId))
      .where(and(eq(messages.conversationId, id), eq(messageFeedback.endUser, owner.endUser))),
  ]);
  const row = conv[0];
  return row ? { row, messages: msgs, feedback: new Map(feedback.map((f) => [f.messageId, f])) } : null;
}

/** Deletes a conversation and (by the foreign key's cascade) its messages; false when the owner has no such conversation. */
export async function deleteConversation(db: D1Database, owner: Owner, id: string): Promise<boolean> {
  const deleted = await drizzle(db)
    .delete(conversations)
    .where(and(eq(conversations.id, id), visibleTo(owner)))
    .returning({ id: conversations.id });
  return deleted.length > 0;
}
