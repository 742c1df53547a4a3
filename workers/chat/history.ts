/**
 * Stored messages to the turns a prompt is built from. Pure. A user message that never got an
 * answer (its generation failed before any token was stored) is left out of later prompts, as is
 * an empty assistant message, so the history always alternates user/assistant.
 */
import type { ChatMessage } from "../../wire/openai.js";
import type { StoredTokens } from "../prompt/index.js";

export interface StoredMessage {
  id: string;
  role: "user" | "assistant";
  content: string;
  /** The message's stored token ids and what they encode (null until a turn tokenized it). */
  tokenKey?: string | null;
  tokenIds?: StoredTokens["bytes"] | null;
}

/** The rows the prompt is built from: alternating, oldest first, the last one the newest answered-or-open user message. */
export function promptRows<Row extends StoredMessage>(rows: readonly Row[]): Row[] {
  const kept: Row[] = [];
  for (const row of rows) {
    const last = kept[kept.length - 1];
    if (row.role === "user") {
      if (last?.role === "user") kept.pop();
      kept.push(row);
    } else if (row.content !== "" && last?.role === "user") {
      kept.push(row);
    }
  }
  return kept;
}

/** Alternating turns, oldest first; the last entry is the newest answered-or-open user message. */
export function promptTurns(rows: readonly StoredMessage[]): ChatMessage[] {
  return promptRows(rows).map((row) => ({ role: row.role, content: row.content }));
}

/** The stored token ids of prompt rows, aligned with them (ChatConversation.tokens). */
export function storedTokens(rows: readonly StoredMessage[]): Array<StoredTokens | null> {
  return rows.map((row) => (row.tokenKey != null && row.tokenIds != null ? { key: row.tokenKey, bytes: row.tokenIds } : null));
}

export type RegeneratePlan<Row extends StoredMessage = StoredMessage> =
  | { ok: true; rows: Row[]; replacesMessageId: string | null; userMessageId: string }
  | { ok: false; reason: string };

/** What a regenerate answers: the newest user message, replacing the reply after it if any. */
export function planRegenerate<Row extends StoredMessage>(rows: readonly Row[]): RegeneratePlan<Row> {
  const last = rows[rows.length - 1];
  if (!last) return { ok: false, reason: "The conversation has no messages to regenerate a reply for." };
  const replacesMessageId = last.role === "assistant" ? last.id : null;
  const kept = replacesMessageId ? rows.slice(0, -1) : rows;
  const lastUser = kept[kept.length - 1];
  if (!lastUser || lastUser.role !== "user") return { ok: false, reason: "The conversation has no user message to answer." };
  return { ok: true, rows: promptRows(kept), replacesMessageId, userMessageId: lastUser.id };
}

export type EditPlan<Row extends StoredMessage = StoredMessage> =
  | { ok: true; rows: Row[]; removedIds: string[] }
  | { ok: false; reason: string };

/**
 * Edit and resend: `rows` as read after the new user message (`newMessageId`, last) was appended.
 * The message to replace must be the last user message before it; it and everything after it
 * (its replies) leave the prompt now, and leave the store with the reply (removedIds).
 */
export function planEdit<Row extends StoredMessage>(rows: readonly Row[], replacesId: string, newMessageId: string): EditPlan<Row> {
  const earlier = rows[rows.length - 1]?.id === newMessageId ? rows.slice(0, -1) : [...rows];
  let lastUser = -1;
  for (let i = earlier.length - 1; i >= 0; i--) {
    if (earlier[i]!.role === "user") {
      lastUser = i;
      break;
    }
  }
  if (lastUser === -1 || earlier[lastUser]!.id !== replacesId) {
    return { ok: false, reason: "`replaces` must be the id of the conversation's last user message; only the last one can be edited and resent." };
  }
  return {
    ok: true,
    rows: promptRows([...earlier.slice(0, lastUser), ...rows.slice(earlier.length)]),
    removedIds: earlier.slice(lastUser).map((row) => row.id),
  };
}
