/**
 * How a stored battle is shown. The one rule that makes a vote blind lives here: an anonymous
 * battle shows its models only once it is closed — voted, or failed (a failed battle can never be
 * voted, so naming its models reveals nothing a vote could use).
 */
import type { ArenaBattle, ArenaWinner } from "../../wire/arena.js";
import type { ArenaBattleRow } from "../db/schema.js";

export function modelsRevealed(battle: Pick<ArenaBattleRow, "anonymous" | "status">): boolean {
  return !battle.anonymous || battle.status !== "open";
}

export function battleView(battle: ArenaBattleRow, vote: { winner: ArenaWinner; votedAt: number } | null): ArenaBattle {
  const revealed = modelsRevealed(battle);
  return {
    id: battle.id,
    object: "arena.battle",
    status: battle.status,
    anonymous: battle.anonymous,
    turns: battle.turns,
    created_at: Math.floor(battle.createdAt / 1000),
    a: { model: revealed ? battle.modelA : null, conversation_id: battle.conversationA },
    b: { model: revealed ? battle.modelB : null, conversation_id: battle.conversationB },
    vote: vote ? { winner: vote.winner, voted_at: Math.floor(vote.votedAt / 1000) } : null,
  };
}
