/**
 * The family-neutral conversation the prompt layer renders, and its validation. Pure.
 */
import type { ChatMessage } from "../../wire/openai.js";
import { GatewayError } from "../errors.js";
import type { StoredTokens } from "./stored-tokens.js";

/**
 * A conversation in chat-template shape. messages: user/assistant only, alternating, starting
 * and ending with user (the last one is the turn to answer). system null = the family's default.
 */
export interface ChatConversation {
  system: string | null;
  messages: ChatMessage[];
  /**
   * A stored conversation's token ids, aligned with `messages` (null: none stored). Present only
   * for stored conversations: then fitting reuses the ids that are still valid and reports the
   * ones it computed (FitResult.newTokens), for the turn to store.
   */
  tokens?: ReadonlyArray<StoredTokens | null>;
}

/** A user/assistant message of a checked conversation. */
export interface TurnMessage extends ChatMessage {
  role: "user" | "assistant";
}

/** A conversation no chat template can express; a 400 in the OpenAI error shape. */
export class InvalidConversation extends GatewayError {
  constructor(message: string) {
    super({ status: 400, type: "invalid_request_error", message, param: "messages", code: "invalid_conversation" });
    this.name = "InvalidConversation";
  }
}

const LAST_FROM_USER = "The last message must be from the user; the assistant's answer is what gets generated.";

/** Returns the messages typed as turns, or throws InvalidConversation. */
export function checkedTurns(c: ChatConversation): TurnMessage[] {
  const { messages } = c;
  if (messages.length === 0) throw new InvalidConversation("The conversation has no user message to answer.");
  messages.forEach((m, i) => {
    const expected = i % 2 === 0 ? "user" : "assistant";
    if (m.role !== expected) {
      throw new InvalidConversation(
        `messages[${i}] is a ${m.role} message where a ${expected} message was expected: ` +
          "after the system prompt, turns alternate user, assistant, user, ...",
      );
    }
  });
  if (messages.length % 2 === 0) throw new InvalidConversation(LAST_FROM_USER);
  // Every role was checked above to be user or assistant.
  return messages as TurnMessage[];
}

/** Throws InvalidConversation unless the messages alternate user, assistant, …, user. */
export function checkConversation(c: ChatConversation): void {
  checkedTurns(c);
}

/** Joins a run of same-role messages; empty parts add nothing. */
function mergeRun(parts: readonly string[]): string {
  return parts.filter((p) => p !== "").join("\n\n");
}

/**
 * Normalises OpenAI chat messages into a ChatConversation. Leading system messages become the
 * system text (several: joined with "\n"); a system message after the first user/assistant
 * message is rejected. Consecutive same-role messages are merged with "\n\n" (OpenAI accepts
 * them, e.g. context then question, so rejecting would break valid clients). The first turn must
 * be the user's and the last message must be from the user; anything else throws
 * InvalidConversation.
 */
export function toChatConversation(messages: ChatMessage[]): ChatConversation {
  let firstTurn = messages.findIndex((m) => m.role !== "system");
  if (firstTurn === -1) firstTurn = messages.length;
  const systemParts = messages.slice(0, firstTurn).map((m) => m.content);
  const turns: ChatMessage[] = [];
  let run: { role: "user" | "assistant"; parts: string[] } | null = null;
  for (let i = firstTurn; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role === "system") {
      throw new InvalidConversation(
        `messages[${i}] is a system message after the conversation started; ` +
          "system messages are only allowed before the first user message.",
      );
    }
    if (run !== null && run.role === m.role) {
      run.parts.push(m.content);
      continue;
    }
    if (run !== null) turns.push({ role: run.role, content: mergeRun(run.parts) });
    run = { role: m.role, parts: [m.content] };
  }
  if (run === null) throw new InvalidConversation("messages must contain at least one user message.");
  turns.push({ role: run.role, content: mergeRun(run.parts) });
  if (turns[0]!.role !== "user") {
    throw new InvalidConversation(`messages[${firstTurn}] is an assistant message, but a conversation starts with the user.`);
  }
  if (run.role !== "user") throw new InvalidConversation(LAST_FROM_USER);
  return { system: systemParts.length === 0 ? null : systemParts.join("\n"), messages: turns };
}
