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
 */
import type { ChatConversation } from "./conversation.js";
import { countPieces, encodePieces, memoEncoder, type PieceEncoder, type PromptPiece } from "./pieces.js";
import { prepareConversation, preparedPieces, turnPieces, type PreparedConversation, type PromptRuntime } from "./render.js";

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

export type FitResult =
  | { ok: true; conversation: ChatConversation; tokens: number[]; promptTokens: number; maxTokens: number; droppedMessages: number }
  | { ok: false; code: "context_length_exceeded"; message: string; promptTokens: number };

function checkPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

/** The first message to keep: the smallest even index whose prompt fits `budget`, else the newest. */
function chooseCut(rt: PromptRuntime, p: PreparedConversation, budget: number, encode: PieceEncoder): number {
  const { family, tokenizer } = rt;
  const count = p.messages.length;
  const head = family.head(p.system);
  const headLast = head.at(-1) ?? null;
  const full = new Map<number, PromptPiece[]>();
  const fullPieces = (i: number): PromptPiece[] => {
    let pieces = full.get(i);
    if (pieces === undefined) {
      pieces = turnPieces(family, p, i, false);
      full.set(i, pieces);
    }
    return pieces;
  };
  // A turn's first piece encodes according to the piece before it (the dummy prefix after a
  // special id), so the previous turn's last piece is passed along.
  const lastBefore = (i: number): PromptPiece | null => (i === 0 ? headLast : (fullPieces(i - 1).at(-1) ?? lastBefore(i - 1)));
  const fullTokens = (i: number): number => countPieces(tokenizer, fullPieces(i), encode, lastBefore(i));
  const firstTokens = (i: number): number => countPieces(tokenizer, turnPieces(family, p, i, true), encode, headLast);
  const headTokens = countPieces(tokenizer, head, encode, null);

  const newest = count - 1;
  let laterTokens = fullTokens(count); // the open assistant turn
  let cut = newest;
  for (let start = newest - 2; start >= 0; start -= 2) {
    laterTokens += fullTokens(start + 2) + fullTokens(start + 1);
    if (headTokens + firstTokens(start) + laterTokens > budget) break;
    cut = start;
  }
  return cut;
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

  const encode = memoEncoder(rt.tokenizer);
  const prepared = prepareConversation(rt.family, conversation);
  // Without max_tokens, keep room for the whole default answer while history can be dropped;
  // only a prompt that is long on its own gets a shorter answer.
  const completionTarget = maxTokens ?? defaultMaxTokens;
  const start = truncate ? chooseCut(rt, prepared, contextLength - completionTarget, encode) : 0;

  const kept: ChatConversation = { system: conversation.system, messages: conversation.messages.slice(start) };
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
  };
}
