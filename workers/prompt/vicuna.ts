/**
 * Vicuna v1.1 prompts, rendered by the gateway: as text (byte-exact with FastChat's
 * Conversation.get_prompt for vicuna_v1.1) and as the token ids sent to vLLM. Pure: no I/O.
 *
 * Token rendering. The prompt is cut into pieces (see templates.ts) where SentencePiece cannot
 * merge across: every piece after the first starts with a space ("▁") or follows an EOS, and no
 * LLaMA vocabulary entry has "▁" after another character. Each piece is encoded on its own and
 * the ids are concatenated, so for ordinary messages the ids equal what the tokenizer makes of
 * each EOS-delimited segment as a whole, and a message's ids can be counted once and summed.
 * Dummy prefix: only the first piece after BOS gets SentencePiece's dummy-prefix space; the piece
 * after an EOS gets none ("</s>USER:" → EOS, "USER", ":"), as HF's LlamaTokenizer does with
 * legacy=false (Vicuna v1.5's tokenizer config, and how FastChat trained v1.5). decodeTokens
 * drops exactly that one dummy space, so decodeTokens(renderVicunaTokens(c)) === renderVicunaText(c).
 *
 * Forgery. "</s>" inside message text is encoded as plain characters, never as EOS (encodeText
 * does not parse special tokens). Upper-case role markers inside text ("USER:", "\nASSISTANT :")
 * get a word joiner (U+2060) before the colon in both renderings, so the token sequence of a real
 * role marker never occurs inside a message.
 */
import type { ChatMessage } from "../../wire/openai.js";
import { GatewayError } from "../errors.js";
import { layoutVicuna, VICUNA_V11, type PromptPiece, type TurnMessage } from "./templates.js";
import { BOS_ID, encodeText, EOS_ID } from "./tokenizer.js";

export const VICUNA_V11_SYSTEM: string = VICUNA_V11.system;

/**
 * A conversation in Vicuna's shape. messages: user/assistant only, alternating, starting with
 * user; the last one is a user message (the open turn). system null = the default system text.
 */
export interface VicunaConversation {
  system: string | null;
  messages: ChatMessage[];
}

/** A conversation the template cannot express; a 400 in the OpenAI error shape. */
export class InvalidConversation extends GatewayError {
  constructor(message: string) {
    super({ status: 400, type: "invalid_request_error", message, param: "messages", code: "invalid_conversation" });
    this.name = "InvalidConversation";
  }
}

/** Encodes one prompt piece; `atStart` = first piece after BOS (gets the dummy prefix). */
export type PieceEncoder = (text: string, atStart: boolean) => number[];

const plainEncoder: PieceEncoder = (text, atStart) => encodeText(text, { leadingSpace: atStart });

/** Token ids of a rendered prompt with, per message, the [start, end) span of its own text. */
export interface VicunaTokenLayout {
  tokens: number[];
  /** Spans of message text pieces (role markers and EOS excluded), by message index. */
  messageSpans: Array<{ message: number; start: number; end: number }>;
}

/** Checks the VicunaConversation invariants and returns the messages typed as turns. */
export function checkConversation(c: VicunaConversation): TurnMessage[] {
  const { messages } = c;
  if (messages.length === 0) throw new InvalidConversation("The conversation has no user message to answer.");
  messages.forEach((m, i) => {
    const expected = i % 2 === 0 ? "user" : "assistant";
    if (m.role !== expected) {
      throw new InvalidConversation(
        `messages[${i}] is a ${m.role} message where a ${expected} message was expected: ` +
          "after the system prompt, Vicuna turns alternate user, assistant, user, ...",
      );
    }
  });
  if (messages.length % 2 === 0) {
    throw new InvalidConversation("The last message must be from the user; the assistant's answer is what gets generated.");
  }
  // Every role was checked above to be user or assistant.
  return messages as TurnMessage[];
}

/** The conversation's prompt pieces (validated; system null → the default system text). */
export function vicunaPieces(c: VicunaConversation): PromptPiece[] {
  return layoutVicuna(c.system ?? VICUNA_V11_SYSTEM, checkConversation(c));
}

/** Byte-exact with FastChat's Conversation.get_prompt() for vicuna_v1.1 (sep_style ADD_COLON_TWO, roles USER/ASSISTANT, sep " ", sep2 "</s>", open turn ends "ASSISTANT:"). */
export function renderVicunaText(c: VicunaConversation): string {
  return vicunaPieces(c)
    .map((p) => p.text)
    .join("");
}

/** Encodes prompt pieces to ids (BOS first) and records each message's span. */
export function encodePieces(pieces: readonly PromptPiece[], encode: PieceEncoder = plainEncoder): VicunaTokenLayout {
  const tokens: number[] = [BOS_ID];
  const messageSpans: VicunaTokenLayout["messageSpans"] = [];
  pieces.forEach((piece, index) => {
    if (piece.kind === "eos") {
      tokens.push(EOS_ID);
      return;
    }
    const start = tokens.length;
    for (const id of encode(piece.text, index === 0)) tokens.push(id);
    if (piece.kind === "message") messageSpans.push({ message: piece.message, start, end: tokens.length });
  });
  return { tokens, messageSpans };
}

/** Token ids with the span of every message's text, for callers (and tests) that need both. */
export function renderVicunaTokenLayout(c: VicunaConversation): VicunaTokenLayout {
  return encodePieces(vicunaPieces(c));
}

/** The token ids the gateway sends to vLLM: BOS, then the rendered prompt where every real turn end is the EOS id and message text can never become EOS or a role marker. */
export function renderVicunaTokens(c: VicunaConversation): number[] {
  return renderVicunaTokenLayout(c).tokens;
}

/** Joins a run of same-role messages; empty parts add nothing. */
function mergeRun(parts: readonly string[]): string {
  return parts.filter((p) => p !== "").join("\n\n");
}

/**
 * Normalises OpenAI chat messages into a VicunaConversation. Leading system messages become the
 * system text (several: joined with "\n"); a system message after the first user/assistant
 * message is rejected. Consecutive same-role messages are merged with "\n\n" (OpenAI accepts
 * them, e.g. context then question, so rejecting would break valid clients). The first turn must
 * be the user's and the last message must be from the user; anything else throws
 * InvalidConversation.
 */
export function toVicunaConversation(messages: ChatMessage[]): VicunaConversation {
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
    throw new InvalidConversation(
      `messages[${firstTurn}] is an assistant message, but a Vicuna conversation starts with the user.`,
    );
  }
  if (run.role !== "user") {
    throw new InvalidConversation("The last message must be from the user; the assistant's answer is what gets generated.");
  }
  return { system: systemParts.length === 0 ? null : systemParts.join("\n"), messages: turns };
}
