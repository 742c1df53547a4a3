/**
 * Rendering a conversation with a prompt family and tokenizer: as text (byte-exact with the
 * family's reference) and as the token ids sent to vLLM. Pure: no I/O.
 *
 * Both renderings come from the same pieces (pieces.ts). Text pieces are tokenized as plain
 * characters, so special-token text inside a message never becomes a special id; each family
 * also neutralises its marker texts, so a marker's token sequence never occurs inside a message.
 * decode(renderPromptTokens) === renderPromptText for any text a SentencePiece model can hold.
 */
import { checkedTurns, type ChatConversation, type TurnMessage } from "./conversation.js";
import { checkTemplateTokenizer, getPromptFamily, type PromptFamily, type TemplateId } from "./families/index.js";
import { encodePieces, piecesText, tokenizerEncoder, type PieceEncoder, type PromptPiece, type TokenLayout } from "./pieces.js";
import { getTokenizer, type Tokenizer, type TokenizerId } from "./tokenizers.js";

/** What a model's prompts are rendered with. */
export interface PromptRuntime {
  family: PromptFamily;
  tokenizer: Tokenizer;
}

/**
 * The runtime for a template, with its usual tokenizer unless one is named. Throws on a
 * mismatch: the config layer should have rejected it with checkTemplateTokenizer.
 */
export function promptRuntime(template: TemplateId, tokenizer?: TokenizerId): PromptRuntime {
  const family = getPromptFamily(template);
  const tokenizerId = tokenizer ?? family.tokenizers[0]!;
  const problem = checkTemplateTokenizer(template, tokenizerId);
  if (problem !== null) throw new Error(problem);
  return { family, tokenizer: getTokenizer(tokenizerId) };
}

/** A checked conversation with its texts neutralised once, ready to lay out turn by turn. */
export interface PreparedConversation {
  /** System text in effect (default applied, neutralised); null = none. */
  system: string | null;
  messages: ReadonlyArray<{ role: TurnMessage["role"]; text: string }>;
}

export function prepareConversation(family: PromptFamily, c: ChatConversation): PreparedConversation {
  const system = c.system ?? family.defaultSystem;
  return {
    system: system === null ? null : family.neutralise(system),
    messages: checkedTurns(c).map((m) => ({ role: m.role, text: family.neutralise(m.content) })),
  };
}

/**
 * The pieces of message `index` (messages.length: the open assistant turn). `first` lays it out
 * as the first message of the prompt, as it is when truncation dropped everything before it.
 */
export function turnPieces(family: PromptFamily, p: PreparedConversation, index: number, first: boolean): PromptPiece[] {
  const message = p.messages[index];
  const previous = first ? null : (p.messages[index - 1]?.text ?? null);
  return family.turn({
    role: message?.role ?? "assistant",
    text: message?.text ?? null,
    index,
    previous,
    system: p.system,
  });
}

/** All pieces of a prepared conversation, optionally starting at message `from` (even). */
export function preparedPieces(family: PromptFamily, p: PreparedConversation, from = 0): PromptPiece[] {
  const pieces = family.head(p.system);
  for (let i = from; i <= p.messages.length; i++) pieces.push(...turnPieces(family, p, i, i === from));
  return pieces;
}

/** The prompt's pieces (validated; system null → the family default). */
export function renderPromptPieces(rt: PromptRuntime, c: ChatConversation): PromptPiece[] {
  return preparedPieces(rt.family, prepareConversation(rt.family, c));
}

/** The prompt as text, byte-exact with the family's reference rendering for ordinary text. */
export function renderPromptText(rt: PromptRuntime, c: ChatConversation): string {
  return piecesText(renderPromptPieces(rt, c));
}

/** Token ids with the span of the system text and of every message's text. */
export function renderPromptTokenLayout(rt: PromptRuntime, c: ChatConversation, encode?: PieceEncoder): TokenLayout {
  return encodePieces(rt.tokenizer, renderPromptPieces(rt, c), encode ?? tokenizerEncoder(rt.tokenizer));
}

/** The ids sent to vLLM: BOS, then the prompt with every real marker and turn end as the template's ids. */
export function renderPromptTokens(rt: PromptRuntime, c: ChatConversation): number[] {
  return renderPromptTokenLayout(rt, c).tokens;
}

/**
 * Ids of assistant text already produced, to append after the prompt when a stream is resumed
 * on another worker: the text continues a text piece, so no dummy prefix.
 */
export function encodeContinuation(rt: PromptRuntime, text: string): number[] {
  return rt.tokenizer.encode(text, { leadingSpace: false });
}

/** Tokens `text` adds when it continues a prompt (e.g. completion text), as encodeContinuation. */
export function countTokens(rt: PromptRuntime, text: string): number {
  return encodeContinuation(rt, text).length;
}
