/**
 * The shapes the export pipeline reads and passes between its steps. The input shape is what the
 * gateway's admin export route produces for one consented conversation; end-user ids are not in
 * it, so they cannot reach a training record. Pure types, no I/O.
 */

export interface ExportMessage { role: "user" | "assistant"; content: string; status: "complete" | "length" | "cancelled" | "failed" | null; feedback: { up: number; down: number } }
export interface ExportConversation { id: string; model: string; created_at: number /* unix seconds */; system_prompt: string | null; messages: ExportMessage[] }

/** One kept exchange: a user message and the assistant reply that answered it. */
export interface ExportPair {
  user: string;
  assistant: string;
  /** The reply's 👍/👎 counts, for the feedback filter. */
  feedback: { up: number; down: number };
}

/** A message of a training segment as a chat template renders it; "system" only comes first. */
export interface SegmentMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** Why a whole conversation wrote no record. */
export const DROP_REASONS = [
  "no_complete_turns",
  "feedback_down",
  "feedback_not_up",
  "too_short",
  "blocked",
  "duplicate",
  "too_long",
] as const;
export type DropReason = (typeof DROP_REASONS)[number];
