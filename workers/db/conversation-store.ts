/**
 * D1 access for conversations and their messages. Functions take the database so tests can seed
 * without HTTP. Ownership: a conversation belongs to a key and an end user ('' = the key itself);
 * an end user of a bot key sees its own conversations and the key's shared ones ('' end user).
 */
import { and, desc, eq, getTableColumns, inArray, lt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { conversations, messages, type ConversationRow, type MessageRow } from "./schema.js";

/** Who is asking: the key and the end user acting through it. */
export interface Owner {
  keyId: string;
  endUser: string;
}

function visibleTo(owner: Owner) {
  const endUsers = owner.endUser === "" ? [""] : [owner.endUser, ""];
  return and(eq(conversations.keyId, owner.keyId), inArray(conversations.endUser, endUsers));
}

export interface NewConversation {
  id: string;
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

export async function listConversations(
  db: D1Database,
  query: { owner: Owner; externalId?: string; after?: string; limit: number },
): Promise<{ rows: ConversationRow[]; hasMore: boolean }> {
  const conditions = [visibleTo(query.owner)];
  if (query.externalId !== undefined) conditions.push(eq(conversations.externalId, query.externalId));
  if (query.after !== undefined) conditions.push(lt(conversations.id, query.after));
  const rows = await drizzle(db)
    .select()
    .from(conversations)
    .where(and(...conditions))
    .orderBy(desc(conversations.id))
    .limit(query.limit + 1)
    .all();
  return { rows: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
}

// Every message column but the stored token ids, which only a turn reads.
const { tokenKey: _tokenKey, tokenIds: _tokenIds, ...MESSAGE_VIEW_COLUMNS } = getTableColumns(messages);

export async function getConversation(db: D1Database, owner: Owner, id: string): Promise<{ row: ConversationRow; messages: MessageRow[] } | null> {
  const d = drizzle(db);
  const [conv, msgs] = await d.batch([
    d.select().from(conversations).where(and(eq(conversations.id, id), visibleTo(owner))),
    d.select(MESSAGE_VIEW_COLUMNS).from(messages).where(eq(messages.conversationId, id)).orderBy(messages.seq),
  ]);
  const row = conv[0];
  return row ? { row, messages: msgs } : null;
}

/** Deletes a conversation and (by the foreign key's cascade) its messages; false when the owner has no such conversation. */
export async function deleteConversation(db: D1Database, owner: Owner, id: string): Promise<boolean> {
  const deleted = await drizzle(db)
    .delete(conversations)
    .where(and(eq(conversations.id, id), visibleTo(owner)))
    .returning({ id: conversations.id });
  return deleted.length > 0;
}
