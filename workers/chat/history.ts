/**
 * Stored messages to the turns a prompt is built from. Pure. A user message that never got an
 * answer (its generation failed before any token was stored) is left out of later prompts, as is
 * an empty assistant message, so the history always alternates user/assistant.
 */
import type { ChatMessage } from "../../wire/openai.js";

export interface StoredMessage {
  id: string;
  role: "user" | "assistant";
  content: string;
}

/** Alternating turns, oldest first; the last entry is the newest answered-or-open user message. */
export function promptTurns(rows: readonly StoredMessage[]): ChatMessage[] {
  const turns: ChatMessage[] = [];
  for (const row of rows) {
    const last = turns[turns.length - 1];
    if (row.role === "user") {
      if (last?.role === "user") turns.pop();
      turns.push({ role: "user", content: row.content });
    } else if (row.content !== "" && last?.role === "user") {
      turns.push({ role: "assistant", content: row.content });
    }
  }
  return turns;
}

export type RegeneratePlan =
  | { ok: true; turns: ChatMessage[]; replacesMessageId: string | null; userMessageId: string }
  | { ok: false; reason: string };

/** What a regenerate answers: the newest user message, replacing the reply after it if any. */
export function planRegenerate(rows: readonly StoredMessage[]): RegeneratePlan {
  const last = rows[rows.length - 1];
  if (!last) return { ok: false, reason: "The conversation has no messages to regenerate a reply for." };
  const replacesMessageId = last.role === "assistant" ? last.id : null;
  const kept = replacesMessageId ? rows.slice(0, -1) : rows;
  const lastUser = kept[kept.length - 1];
  if (!lastUser || lastUser.role !== "user") return { ok: false, reason: "The conversation has no user message to answer." };
  return { ok: true, turns: promptTurns(kept), replacesMessageId, userMessageId: lastUser.id };
}
