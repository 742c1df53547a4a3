/**
 * D1 access for arena battles and votes. A battle's two sides are ordinary conversations of its
 * owner, created sealed (hidden from the conversations API, which would name their models) and
 * unsealed in the same batch that stores the vote, or when the battle fails and can never be voted.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { ArenaWinner } from "../../wire/arena.js";
import { keyDataSharingSql, type Owner } from "../db/conversation-store.js";
import { arenaBattles, arenaVotes, conversations, messages, type ArenaBattleRow, type MessageRow } from "../db/schema.js";

export interface NewBattle {
  id: string;
  owner: Owner;
  modelA: string;
  modelB: string;
  anonymous: boolean;
  systemPrompt: string | null;
  conversationA: string;
  conversationB: string;
  now: number;
}

/** The battle and its two sealed conversations, in one batch. */
export async function createBattle(db: D1Database, input: NewBattle): Promise<ArenaBattleRow> {
  const d = drizzle(db);
  const side = (id: string, model: string, slot: "a" | "b") => ({
    id,
    keyId: input.owner.keyId,
    endUser: input.owner.endUser,
    externalId: null,
    model,
    systemPrompt: input.systemPrompt,
    // Says where the conversation came from once it shows in the list after the vote.
    metadata: JSON.stringify({ arena_battle: input.id, arena_slot: slot }),
    createdAt: input.now,
    updatedAt: input.now,
    arenaSealed: true,
    trainingConsent: keyDataSharingSql(input.owner.keyId),
  });
  const battle: ArenaBattleRow = {
    id: input.id,
    keyId: input.owner.keyId,
    endUser: input.owner.endUser,
    conversationA: input.conversationA,
    conversationB: input.conversationB,
    modelA: input.modelA,
    modelB: input.modelB,
    anonymous: input.anonymous,
    status: "open",
    turns: 0,
    createdAt: input.now,
    updatedAt: input.now,
  };
  await d.batch([
    d.insert(conversations).values([side(input.conversationA, input.modelA, "a"), side(input.conversationB, input.modelB, "b")]),
    d.insert(arenaBattles).values(battle),
  ]);
  return battle;
}

/** Battles are their creator's alone: the same key and the same end user. */
function ownedBy(owner: Owner, id: string) {
  return and(eq(arenaBattles.id, id), eq(arenaBattles.keyId, owner.keyId), eq(arenaBattles.endUser, owner.endUser));
}

export async function getBattle(db: D1Database, owner: Owner, id: string): Promise<ArenaBattleRow | null> {
  return (await drizzle(db).select().from(arenaBattles).where(ownedBy(owner, id)).get()) ?? null;
}

/** Removes a battle whose first turn produced nothing, with both conversations (and their messages). */
export async function deleteBattle(db: D1Database, battle: ArenaBattleRow): Promise<void> {
  const d = drizzle(db);
  await d.batch([
    d.delete(arenaBattles).where(eq(arenaBattles.id, battle.id)),
    d.delete(conversations).where(inArray(conversations.id, [battle.conversationA, battle.conversationB])),
  ]);
}

/**
 * Records how a turn of both sides ended: a turn both answered counts; a side that failed ends the
 * battle (it can never be voted), which unseals both sides so their models may be shown.
 */
export async function endBattleTurn(db: D1Database, battle: ArenaBattleRow, outcome: { failed: boolean; now: number }): Promise<ArenaBattleRow> {
  const d = drizzle(db);
  if (!outcome.failed) {
    const [updated] = await d
      .update(arenaBattles)
      .set({ turns: sql`${arenaBattles.turns} + 1`, updatedAt: outcome.now })
      .where(eq(arenaBattles.id, battle.id))
      .returning();
    return updated ?? battle;
  }
  const [[updated]] = await d.batch([
    d.update(arenaBattles).set({ status: "failed", updatedAt: outcome.now }).where(eq(arenaBattles.id, battle.id)).returning(),
    d.update(conversations).set({ arenaSealed: false }).where(inArray(conversations.id, [battle.conversationA, battle.conversationB])),
  ]);
  return updated ?? battle;
}

export interface BattleMessages {
  a: MessageRow[];
  b: MessageRow[];
}

/** Both sides' messages, oldest first. */
export async function battleMessages(db: D1Database, battle: ArenaBattleRow): Promise<BattleMessages> {
  const d = drizzle(db);
  const columns = {
    id: messages.id,
    conversationId: messages.conversationId,
    seq: messages.seq,
    role: messages.role,
    content: messages.content,
    status: messages.status,
    endUser: messages.endUser,
    promptTokens: messages.promptTokens,
    completionTokens: messages.completionTokens,
    workerId: messages.workerId,
    createdAt: messages.createdAt,
  };
  const [a, b] = await d.batch([
    d.select(columns).from(messages).where(eq(messages.conversationId, battle.conversationA)).orderBy(messages.seq),
    d.select(columns).from(messages).where(eq(messages.conversationId, battle.conversationB)).orderBy(messages.seq),
  ]);
  return { a, b };
}

export interface VoteInput {
  battle: ArenaBattleRow;
  winner: ArenaWinner;
  voterHash: string;
  identityLeaked: boolean;
  now: number;
}

export type VoteResult = { kind: "voted"; battle: ArenaBattleRow } | { kind: "refused"; battle: ArenaBattleRow | null };

/**
 * Stores the vote, closes the battle and unseals both sides, in one transaction — only if the
 * battle is still open, has the number of turns the caller checked the answers of (a turn that
 * ended in between could have leaked a name), and neither side is in the middle of a turn. A
 * refused vote returns the battle as it is now, for the caller to say why.
 */
export async function castVote(db: D1Database, input: VoteInput): Promise<VoteResult> {
  const { battle } = input;
  const insert = db
    .prepare(
      `INSERT INTO arena_votes (battle_id, model_a, model_b, winner, turns, voter_hash, anonymous, identity_leaked, voted_at)
       SELECT b.id, b.model_a, b.model_b, ?2, b.turns, ?3, b.anonymous, ?4, ?5 FROM arena_battles b
       WHERE b.id = ?1 AND b.status = 'open' AND b.turns = ?6 AND b.turns > 0
         AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id IN (b.conversation_a, b.conversation_b) AND c.busy_token IS NOT NULL AND c.busy_until >= ?5)
       ON CONFLICT (battle_id) DO NOTHING`,
    )
    .bind(battle.id, input.winner, input.voterHash, input.identityLeaked ? 1 : 0, input.now, battle.turns);
  const voted = `EXISTS (SELECT 1 FROM arena_votes v WHERE v.battle_id = ?1 AND v.voted_at = ?2)`;
  const close = db.prepare(`UPDATE arena_battles SET status = 'voted', updated_at = ?2 WHERE id = ?1 AND status = 'open' AND ${voted}`).bind(battle.id, input.now);
  const unseal = db
    .prepare(`UPDATE conversations SET arena_sealed = 0 WHERE id IN (?3, ?4) AND ${voted}`)
    .bind(battle.id, input.now, battle.conversationA, battle.conversationB);
  const [inserted] = await db.batch([insert, close, unseal]);
  const now = await drizzle(db).select().from(arenaBattles).where(eq(arenaBattles.id, battle.id)).get();
  if ((inserted?.meta.changes ?? 0) === 1 && now) return { kind: "voted", battle: now };
  return { kind: "refused", battle: now ?? null };
}

export async function getVote(db: D1Database, battleId: string): Promise<{ winner: ArenaWinner; votedAt: number } | null> {
  const row = await drizzle(db).select({ winner: arenaVotes.winner, votedAt: arenaVotes.votedAt }).from(arenaVotes).where(eq(arenaVotes.battleId, battleId)).get();
  return row ?? null;
}

/** Whether either side holds its turn lock now (a turn is being answered). */
export async function battleIsBusy(db: D1Database, battle: ArenaBattleRow, now: number): Promise<boolean> {
  const rows = await drizzle(db)
    .select({ busyToken: conversations.busyToken, busyUntil: conversations.busyUntil })
    .from(conversations)
    .where(inArray(conversations.id, [battle.conversationA, battle.conversationB]));
  return rows.some((r) => r.busyToken !== null && (r.busyUntil ?? 0) >= now);
}
