/**
 * Fits a conversation into the model's context window, by dropping the oldest whole turns or,
 * when truncation is off, by refusing. Generic over families. Pure: no I/O.
 *
 * Cost: a cut at an even index `start` keeps the head (BOS, system block), message `start` laid
 * out as the first message, every later message exactly as in the full layout, and the open
 * assistant turn. So each later message is tokenized once, newest first, each candidate cut only
 * adds "message `start` as first", and the walk stops at the first turn that no longer fits:
 * older history is never tokenized, however long it is. The chosen prompt is then assembled from
 * the same memoised piece encodings, so promptTokens is the exact length of the ids sent.
 *
 * A stored conversation brings the ids stored with its messages: each message's piece in the full
 * layout is looked up with them first (stored-tokens.ts decides whether they are still valid), so
 * a turn tokenizes only what has none — its new message, the previous reply — and reports those
 * ids for the turn to store.
 */
import type { ChatConversation } from "./conversation.js";
import { countPieces, encodePieces, pieceMemo, startsSequence, type PieceEncoder, type PieceMemo, type PromptPiece } from "./pieces.js";
import { prepareConversation, preparedPieces, turnPieces, type PreparedConversation, type PromptRuntime } from "./render.js";
import { packTokenIds, reusableIds, tokensKey, type StoredTokens } from "./stored-tokens.js";

export interface FitInput {
  runtime: PromptRuntime;
  /** Full history; the last message is the new user message. */
  conversation: ChatConversation;
  /** Model window in tokens, e.g. 4096. */
  contextLength: number;
  /** Requested completion tokens, null = default. */
  maxTokens: number | null;
  /** Configured default, capped by the room left. */
  defaultMaxTokens: number;
  /** May old turns be dropped? false: the whole conversation fits or the request is refused. */
  truncate: boolean;
}

/** Ids a fit computed for a message that had no valid stored ones: what to store with it. */
export interface NewMessageTokens {
  /** Index in the input conversation's messages. */
  message: number;
  key: string;
  bytes: Uint8Array;
}

/** At most this many messages' new ids are reported per fit: a conversation stored before ids were kept catches up over a few turns rather than in one huge write. */
export const MAX_NEW_MESSAGE_TOKENS = 64;

export type FitResult =
  | {
      ok: true;
      conversation: ChatConversation;
      tokens: number[];
      promptTokens: number;
      maxTokens: number;
      droppedMessages: number;
      /** Only for a conversation that came with `tokens`: ids computed now, newest message first. */
      newTokens: NewMessageTokens[];
    }
  | { ok: false; code: "context_length_exceeded"; message: string; promptTokens: number };

function checkPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

/** The full prompt's layout, turn by turn, built once per fit and shared by the cut and the stored ids. */
interface Layout {
  head: PromptPiece[];
  /** Pieces of message i (messages.length: the open assistant turn) as laid out in the full prompt. */
  fullPieces(i: number): PromptPiece[];
  /** The piece before message i's first piece in the full prompt: a turn's first piece encodes according to it. */
  lastBefore(i: number): PromptPiece | null;
}

function layout(rt: PromptRuntime, p: PreparedConversation): Layout {
  const head = rt.family.head(p.system);
  const full = new Map<number, PromptPiece[]>();
  const fullPieces = (i: number): PromptPiece[] => {
    let pieces = full.get(i);
    if (pieces === undefined) {
      pieces = turnPieces(rt.family, p, i, false);
      full.set(i, pieces);
    }
    return pieces;
  };
  const lastBefore = (i: number): PromptPiece | null => (i === 0 ? (head.at(-1) ?? null) : (fullPieces(i - 1).at(-1) ?? lastBefore(i - 1)));
  return { head, fullPieces, lastBefore };
}

/** Message i's one text piece in the full prompt and whether it starts a sequence; null unless there is exactly one. */
function messagePiece(rt: PromptRuntime, l: Layout, i: number): { text: string; leadingSpace: boolean } | null {
  const pieces = l.fullPieces(i);
  let found: { text: string; leadingSpace: boolean } | null = null;
  for (let k = 0; k < pieces.length; k++) {
    const piece = pieces[k]!;
    if (piece.kind !== "text" || piece.part !== "message") continue;
    if (found !== null) return null;
    found = { text: piece.text, leadingSpace: startsSequence(rt.tokenizer, k > 0 ? pieces[k - 1]! : l.lastBefore(i)) };
  }
  return found;
}

/** Puts every still-valid stored encoding into the memo; returns which messages had one. */
function seedStoredTokens(rt: PromptRuntime, l: Layout, stored: ReadonlyArray<StoredTokens | null>, count: number, memo: PieceMemo): boolean[] {
  const reused = new Array<boolean>(count).fill(false);
  for (let i = 0; i < count; i++) {
    const tokens = stored[i];
    if (!tokens) continue;
    const piece = messagePiece(rt, l, i);
    const ids = piece && reusableIds(tokens, rt.tokenizer.revision, piece.leadingSpace, piece.text);
    if (!piece || !ids) continue;
    memo.seed(piece.text, piece.leadingSpace, ids);
    reused[i] = true;
  }
  return reused;
}

/** Ids this fit computed for messages that had no valid stored ones (never encoding anything more), newest first. */
function newMessageTokens(rt: PromptRuntime, l: Layout, reused: readonly boolean[], memo: PieceMemo): NewMessageTokens[] {
  const found: NewMessageTokens[] = [];
  for (let i = reused.length - 1; i >= 0 && found.length < MAX_NEW_MESSAGE_TOKENS; i--) {
    if (reused[i]) continue;
    const piece = messagePiece(rt, l, i);
    const ids = piece && memo.peek(piece.text, piece.leadingSpace);
    if (!piece || !ids) continue;
    const { width, bytes } = packTokenIds(ids);
    found.push({ message: i, key: tokensKey(rt.tokenizer.revision, piece.leadingSpace, width, ids.length, piece.text), bytes });
  }
  return found;
}

/** The first message to keep: the smallest even index whose prompt fits `budget`, else the newest. */
function chooseCut(rt: PromptRuntime, p: PreparedConversation, l: Layout, budget: number, memo: PieceMemo): number {
  const encode = memo.encode;
  const { family, tokenizer } = rt;
  const count = p.messages.length;
  const headLast = l.head.at(-1) ?? null;
  const fullTokens = (i: number): number => countPieces(tokenizer, l.fullPieces(i), encode, l.lastBefore(i));
  const firstPieces = (i: number): PromptPiece[] => turnPieces(family, p, i, true);
  const firstTokens = (i: number): number => countPieces(tokenizer, firstPieces(i), encode, headLast);
  const headTokens = countPieces(tokenizer, l.head, encode, null);

  const newest = count - 1;
  let laterTokens = fullTokens(count); // the open assistant turn
  let cut = newest;
  for (let start = newest - 2; start >= 0; start -= 2) {
    laterTokens += fullTokens(start + 2) + fullTokens(start + 1);
    // A message laid out first may be a different piece than in the full layout (Llama-2's first
    // instruction after a system block has no leading space), one no stored ids cover: it is
    // encoded only when a bound that needs no encoding cannot already tell that the cut fits.
    const fitsSurely = headTokens + piecesAtMost(tokenizer, firstPieces(start), memo, headLast) + laterTokens <= budget;
    if (!fitsSurely && headTokens + firstTokens(start) + laterTokens > budget) break;
    cut = start;
  }
  return cut;
}

/** UTF-8 bytes of a text, plus one for a dummy prefix: no SentencePiece encoding of it has more tokens (a token covers at least one byte, or the prefix). */
function tokensAtMost(text: string): number {
  let bytes = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A surrogate is half of a 4-byte character.
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdfff ? 2 : 3;
  }
  return bytes;
}

/** No fewer than the ids `pieces` encode to after `previous`: exact where the memo has the encoding, else the bound. */
function piecesAtMost(tokenizer: PromptRuntime["tokenizer"], pieces: readonly PromptPiece[], memo: PieceMemo, previous: PromptPiece | null): number {
  let count = 0;
  let before = previous;
  for (const piece of pieces) {
    if (piece.kind === "special") count += 1;
    else count += memo.peek(piece.text, startsSequence(tokenizer, before))?.length ?? tokensAtMost(piece.text);
    before = piece;
  }
  return count;
}

/**
 * Fits prompt + max_tokens into the window. truncate: drops the oldest whole turns (a user
 * message with its answer) until it fits, always keeping the system prompt and the newest user
 * message; otherwise nothing is dropped. A missing max_tokens gets min(default, room left), at
 * least 1, else the request fails; an explicit max_tokens that does not fit fails with OpenAI's
 * context_length_exceeded wording.
 */
export function fitToContext(input: FitInput): FitResult {
  const { runtime: rt, conversation, contextLength, maxTokens, defaultMaxTokens, truncate } = input;
  checkPositiveInt("contextLength", contextLength);
  checkPositiveInt("defaultMaxTokens", defaultMaxTokens);
  if (maxTokens !== null) checkPositiveInt("maxTokens", maxTokens);

  const memo = pieceMemo(rt.tokenizer);
  const encode = memo.encode;
  const prepared = prepareConversation(rt.family, conversation);
  const l = layout(rt, prepared);
  const stored = conversation.tokens;
  const reused = stored === undefined ? null : seedStoredTokens(rt, l, stored, prepared.messages.length, memo);
  // Without max_tokens, keep room for the whole default answer while history can be dropped;
  // only a prompt that is long on its own gets a shorter answer.
  const completionTarget = maxTokens ?? defaultMaxTokens;
  const start = truncate ? chooseCut(rt, prepared, l, contextLength - completionTarget, memo) : 0;

  const kept: ChatConversation = { system: conversation.system, messages: conversation.messages.slice(start) };
  if (stored !== undefined) kept.tokens = stored.slice(start);
  // The kept suffix of the already checked and neutralised conversation: the same as preparing
  // `kept` again (the cut is at a user message), without a second pass over its text.
  const keptPrepared = { system: prepared.system, messages: prepared.messages.slice(start) };
  const tokens = encodePieces(rt.tokenizer, preparedPieces(rt.family, keptPrepared), encode).tokens;
  const promptTokens = tokens.length;
  const room = contextLength - promptTokens;
  const limit = `This model's maximum context length is ${contextLength} tokens.`;

  if (maxTokens !== null && maxTokens > room) {
    const requested = `However, you requested ${promptTokens + maxTokens} tokens (${promptTokens} in the messages, ${maxTokens} in the completion)`;
    return {
      ok: false,
      code: "context_length_exceeded",
      promptTokens,
      message: truncate
        ? `${limit} ${requested}, even with only the system prompt and the newest message kept; at most ` +
          `${Math.max(0, room)} completion tokens fit. Please reduce the length of the messages or completion.`
        : `${limit} ${requested}. Please reduce the length of the messages or completion.`,
    };
  }
  if (room < 1) {
    return {
      ok: false,
      code: "context_length_exceeded",
      promptTokens,
      message: truncate
        ? `${limit} However, the system prompt and the newest message alone take ${promptTokens} tokens, ` +
          "which leaves no room for a completion. Please reduce the length of the messages."
        : `${limit} However, your messages resulted in ${promptTokens} tokens, which leaves no room for a ` +
          "completion. Please reduce the length of the messages.",
    };
  }
  return {
    ok: true,
    conversation: kept,
    tokens,
    promptTokens,
    maxTokens: maxTokens ?? Math.min(defaultMaxTokens, room),
    droppedMessages: start,
    newTokens: reused === null ? [] : newMessageTokens(rt, l, reused, memo),
  };
}
