/**
 * Vicuna-only names from before the multi-family prompt layer, kept as thin wrappers until their
 * callers move to index.ts. Each renders with the vicuna_v1.1 family and the llama tokenizer.
 */
import type { ChatMessage } from "../../wire/openai.js";
import {
  checkedTurns,
  InvalidConversation,
  toChatConversation,
  type ChatConversation,
  type TurnMessage,
} from "./conversation.js";
import { VICUNA_V11_DEFAULT_SYSTEM } from "./families/vicuna.js";
import { encodePieces as encodeAnyPieces, tokenizerEncoder, type PieceEncoder, type PromptPiece } from "./pieces.js";
import { promptRuntime, renderPromptPieces, renderPromptText, renderPromptTokenLayout } from "./render.js";

export { InvalidConversation };
export type { PieceEncoder };

const vicuna = promptRuntime("vicuna_v1.1", "llama");

/** @deprecated use VICUNA_V11_DEFAULT_SYSTEM from families/vicuna.ts, or getPromptFamily("vicuna_v1.1").defaultSystem */
export const VICUNA_V11_SYSTEM: string = VICUNA_V11_DEFAULT_SYSTEM;

/** @deprecated use ChatConversation from index.ts */
export type VicunaConversation = ChatConversation;

/** @deprecated use TokenLayout (renderPromptTokenLayout) from index.ts */
export interface VicunaTokenLayout {
  tokens: number[];
  /** Spans of message text pieces (markers and EOS excluded), by message index. */
  messageSpans: Array<{ message: number; start: number; end: number }>;
}

/** @deprecated use checkConversation from index.ts (returns nothing; throws InvalidConversation) */
export function checkConversation(c: VicunaConversation): TurnMessage[] {
  return checkedTurns(c);
}

/** @deprecated use renderPromptPieces(promptRuntime("vicuna_v1.1"), c) */
export function vicunaPieces(c: VicunaConversation): PromptPiece[] {
  return renderPromptPieces(vicuna, c);
}

/** @deprecated use renderPromptText(promptRuntime("vicuna_v1.1"), c) */
export function renderVicunaText(c: VicunaConversation): string {
  return renderPromptText(vicuna, c);
}

/** @deprecated use encodePieces from pieces.ts */
export function encodePieces(pieces: readonly PromptPiece[], encode: PieceEncoder = tokenizerEncoder(vicuna.tokenizer)): VicunaTokenLayout {
  return toVicunaLayout(encodeAnyPieces(vicuna.tokenizer, pieces, encode));
}

function toVicunaLayout(layout: ReturnType<typeof encodeAnyPieces>): VicunaTokenLayout {
  const messageSpans = layout.spans.flatMap((s) => (s.part === "message" && s.message !== null ? [{ message: s.message, start: s.start, end: s.end }] : []));
  return { tokens: layout.tokens, messageSpans };
}

/** @deprecated use renderPromptTokenLayout(promptRuntime("vicuna_v1.1"), c) */
export function renderVicunaTokenLayout(c: VicunaConversation): VicunaTokenLayout {
  return toVicunaLayout(renderPromptTokenLayout(vicuna, c));
}

/** @deprecated use renderPromptTokens(promptRuntime("vicuna_v1.1"), c) */
export function renderVicunaTokens(c: VicunaConversation): number[] {
  return renderPromptTokenLayout(vicuna, c).tokens;
}

/** @deprecated use toChatConversation from index.ts */
export function toVicunaConversation(messages: ChatMessage[]): VicunaConversation {
  return toChatConversation(messages);
}
