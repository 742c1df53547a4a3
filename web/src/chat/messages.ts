/** The transcript as the page holds it: the stored messages plus the one being streamed. */
import type { ConversationMessage, MessageFeedback, MessageStatus } from "../api/schemas.js";

export interface UiMessage {
  /** Stable key for rendering (the message id once known). */
  key: string;
  /** The gateway's message id; null until the turn's headers arrive. */
  id: string | null;
  role: "user" | "assistant";
  content: string;
  /** Assistant messages: "streaming" while it arrives, then how it ended. */
  status: MessageStatus | "streaming" | null;
  feedback: MessageFeedback | null;
  /** Old messages left out of this answer's prompt to fit the window (this session only). */
  droppedMessages: number;
  /** Why a reply failed part-way, in words. */
  error: string | null;
}

let counter = 0;
export function localKey(): string {
  counter += 1;
  return `local-${counter}`;
}

export function fromStored(m: ConversationMessage): UiMessage {
  return { key: m.id, id: m.id, role: m.role, content: m.content, status: m.status, feedback: m.feedback, droppedMessages: 0, error: null };
}

export function newMessage(role: UiMessage["role"], content: string, status: UiMessage["status"]): UiMessage {
  return { key: localKey(), id: null, role, content, status, feedback: null, droppedMessages: 0, error: null };
}

/** A title from a text: its first non-empty line without Markdown's markers, at most `maxChars`. */
export function titleFrom(text: string, maxChars = 60): string {
  const firstLine = text.split("\n").find((l) => l.trim() !== "" && !l.trim().startsWith("```")) ?? text;
  const plain = firstLine
    .replace(/^\s*(?:#{1,6}\s|>\s?|[-*+]\s|\d+[.)]\s)/, "")
    .replace(/[*_`~]/g, "")
    .replace(/\s+/g, " ")
    .trim();
  const line = plain === "" ? text.replace(/\s+/g, " ").trim() : plain;
  return line.length <= maxChars ? line : `${line.slice(0, maxChars - 1).trimEnd()}…`;
}

export function conversationTitle(metadata: Record<string, string>): string {
  return metadata.title?.trim() || "Untitled chat";
}
