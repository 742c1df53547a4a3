/**
 * A battle as the arena page holds it, and how each streamed event changes it. Pure functions of
 * (view, event), so the whole life of a battle — both sides streaming at once, one failing, the
 * vote — is tested by tables without a browser (test/web/arena-battle.test.ts).
 */
import type { ArenaBattle, ArenaBattleWithMessages, ArenaReply, ArenaSlot, ArenaStreamEvent, ArenaWinner } from "../api/arena-schemas.js";
import { ApiError, errorWords } from "../api/errors.js";
import type { MessageStatus } from "../api/schemas.js";

export const SLOTS: readonly ArenaSlot[] = ["a", "b"];

export interface SideAnswer {
  content: string;
  /** "streaming" until the side's `reply` event, then how it ended. */
  status: MessageStatus | "streaming";
  /** Why the side failed, in words; null otherwise. */
  error: string | null;
}

export interface BattleTurn {
  question: string;
  a: SideAnswer;
  b: SideAnswer;
}

export interface BattleView {
  /** Null until the first `battle` event of a new battle. */
  battle: ArenaBattle | null;
  systemPrompt: string | null;
  turns: BattleTurn[];
}

export const emptyView = (systemPrompt: string | null = null): BattleView => ({ battle: null, systemPrompt, turns: [] });

const streaming = (): SideAnswer => ({ content: "", status: "streaming", error: null });

/** The view with a new question both sides are about to answer. */
export function askQuestion(view: BattleView, question: string): BattleView {
  return { ...view, turns: [...view.turns, { question, a: streaming(), b: streaming() }] };
}

function patchLastTurn(view: BattleView, slot: ArenaSlot, patch: (side: SideAnswer) => SideAnswer): BattleView {
  const last = view.turns[view.turns.length - 1];
  if (last === undefined) return view;
  return { ...view, turns: [...view.turns.slice(0, -1), { ...last, [slot]: patch(last[slot]) }] };
}

function answerOf(reply: ArenaReply): SideAnswer {
  const error = reply.status === "failed" ? (reply.error?.message ?? "This side's answer failed.") : null;
  return { content: reply.content, status: reply.status, error };
}

/** Applies one event of the stream to the view (a new object; the old one is untouched). */
export function applyEvent(view: BattleView, event: ArenaStreamEvent): BattleView {
  switch (event.type) {
    case "battle":
      return { ...view, battle: event.battle };
    case "delta":
      return patchLastTurn(view, event.slot, (side) => (side.status === "streaming" ? { ...side, content: side.content + event.content } : side));
    case "reply":
      // The reply's text is the stored one: it wins over the deltas that built it.
      return patchLastTurn(view, event.slot, () => answerOf(event.reply));
  }
}

/** After the stream ended: a side still streaming never got its reply, so it failed (`why`). */
export function endTurn(view: BattleView, why: string): BattleView {
  let next = view;
  for (const slot of SLOTS) next = patchLastTurn(next, slot, (side) => (side.status === "streaming" ? { ...side, status: "failed", error: why } : side));
  return next;
}

/** The view with the battle the vote answered (names revealed). */
export function withBattle(view: BattleView, battle: ArenaBattle): BattleView {
  return { ...view, battle };
}

export function isStreaming(view: BattleView): boolean {
  return view.turns.some((t) => t.a.status === "streaming" || t.b.status === "streaming");
}

/**
 * Where the vote stands: `empty` before any question, `waiting` while a side streams, `ready` to
 * vote, `voted`, or `not_votable` when a side failed (the gateway closes such a battle).
 */
export type VoteState = "empty" | "waiting" | "ready" | "voted" | "not_votable";

export function voteState(view: BattleView): VoteState {
  const { battle } = view;
  if (battle?.vote != null || battle?.status === "voted") return "voted";
  if (battle?.status === "failed") return "not_votable";
  if (view.turns.some((t) => t.a.status === "failed" || t.b.status === "failed")) return "not_votable";
  if (view.turns.length === 0) return "empty";
  if (isStreaming(view) || battle === null) return "waiting";
  return "ready";
}

/** Whether another question may be asked in this battle. */
export function canAsk(view: BattleView): boolean {
  const state = voteState(view);
  return state === "empty" || state === "ready";
}

/** The model behind a side, once the gateway names it (after the vote, or a failure); else null. */
export function modelOf(view: BattleView, slot: ArenaSlot): string | null {
  return view.battle?.[slot].model ?? null;
}

export const VOTE_CHOICES: ReadonlyArray<{ winner: ArenaWinner; label: string }> = [
  { winner: "a", label: "A is better" },
  { winner: "b", label: "B is better" },
  { winner: "tie", label: "Tie" },
  { winner: "bothbad", label: "Both are bad" },
];

export function voteLabel(winner: ArenaWinner): string {
  return VOTE_CHOICES.find((c) => c.winner === winner)?.label ?? winner;
}

/**
 * A stored battle (`GET /v1/arena/battles/{id}`) as the page shows it after a reload: each side's
 * conversation is user, assistant, user, assistant…; a side that failed before its first token
 * stored no reply for that question.
 */
export function viewFromStored(stored: ArenaBattleWithMessages): BattleView {
  const { messages, ...battle } = stored;
  const perSide = { a: [] as Array<{ question: string; answer: SideAnswer | null }>, b: [] as Array<{ question: string; answer: SideAnswer | null }> };
  for (const slot of SLOTS) {
    for (const m of messages[slot]) {
      if (m.role === "user") perSide[slot].push({ question: m.content, answer: null });
      else {
        const turn = perSide[slot][perSide[slot].length - 1];
        if (turn === undefined) continue;
        const status = m.status ?? "complete";
        turn.answer = { content: m.content, status, error: status === "failed" ? "This side's answer failed part-way." : null };
      }
    }
  }
  const count = Math.max(perSide.a.length, perSide.b.length);
  const missing: SideAnswer = { content: "", status: "failed", error: "This side gave no answer." };
  const turns: BattleTurn[] = [];
  for (let i = 0; i < count; i++) {
    turns.push({
      question: perSide.a[i]?.question ?? perSide.b[i]?.question ?? "",
      a: perSide.a[i]?.answer ?? missing,
      b: perSide.b[i]?.answer ?? missing,
    });
  }
  return { battle, systemPrompt: null, turns };
}

/** An arena error in words: the vote's conflicts say what they mean, the rest as on the chat page. */
export function arenaErrorWords(err: unknown): string {
  if (err instanceof ApiError && err.status === 409 && err.code === "already_voted") return "This battle already has a vote.";
  if (err instanceof ApiError && err.status === 409 && err.code === "battle_not_votable") return "This battle cannot be voted on: one side failed, or it is closed.";
  return errorWords(err, { model: "the arena's models" });
}
