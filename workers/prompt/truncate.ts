/**
 * Fits a conversation into the model's context window by dropping the oldest whole turns.
 * Pure: no I/O. Messages are tokenized at most once, newest first, and only as far back as the
 * window could reach; the length of each candidate cut is a running sum. The chosen prompt is
 * assembled from the cached piece encodings by the same code path as renderVicunaTokens, so
 * promptTokens is the exact length of the ids sent.
 */
import type { PromptPiece } from "./templates.js";
import { encodeText } from "./tokenizer.js";
import { encodePieces, vicunaPieces, type PieceEncoder, type VicunaConversation } from "./vicuna.js";

export interface FitInput {
  /** Full history; the last message is the new user message. */
  conversation: VicunaConversation;
  /** Model window in tokens, e.g. 4096. */
  contextLength: number;
  /** Requested completion tokens, null = default. */
  maxTokens: number | null;
  /** Configured default, capped by the room left. */
  defaultMaxTokens: number;
}

export type FitResult =
  | { ok: true; conversation: VicunaConversation; tokens: number[]; promptTokens: number; maxTokens: number; droppedMessages: number }
  | { ok: false; code: "context_length_exceeded"; message: string; promptTokens: number };

/** Memoises piece encodings for one fit: keyed by text, separately for the first piece. */
function memoEncoder(): PieceEncoder {
  const cache = [new Map<string, number[]>(), new Map<string, number[]>()] as const;
  return (text, atStart) => {
    const map = cache[atStart ? 1 : 0];
    let ids = map.get(text);
    if (ids === undefined) {
      ids = encodeText(text, { leadingSpace: atStart });
      map.set(text, ids);
    }
    return ids;
  };
}

function checkPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

/**
 * The first message to keep: the smallest even index whose prompt leaves `completion` tokens of
 * room, or the newest message if none does. A kept suffix renders exactly like the full prompt
 * from that message on, except that its first role marker is the one after the system prompt —
 * the same piece as message 0's — so each cut's length is a running sum of per-message piece
 * lengths. Walking from the newest message back, tokenization stops at the first turn that no
 * longer fits: older history is never tokenized, however long it is.
 */
function chooseCut(pieces: readonly PromptPiece[], messageCount: number, budget: number, encode: PieceEncoder): number {
  const pieceTokens = (index: number): number => {
    const piece = pieces[index]!;
    return piece.kind === "eos" ? 1 : encode(piece.text, index === 0).length;
  };
  const piecesOf: number[][] = Array.from({ length: messageCount + 1 }, () => []);
  let headTokens = 1; // BOS
  pieces.forEach((piece, index) => {
    if (piece.kind === "system") headTokens += pieceTokens(index);
    else piecesOf[piece.message]!.push(index);
  });
  // Every message's first piece is its role marker.
  const roleTokens = (message: number): number => pieceTokens(piecesOf[message]![0]!);
  const messageTokens = (message: number): number => piecesOf[message]!.reduce((sum, index) => sum + pieceTokens(index), 0);
  headTokens += roleTokens(0);

  const newest = messageCount - 1;
  // Tokens of messages newest..end, the open assistant turn included.
  let suffixTokens = messageTokens(newest) + messageTokens(messageCount);
  let cut = newest;
  for (let start = newest - 2; start >= 0; start -= 2) {
    suffixTokens += messageTokens(start) + messageTokens(start + 1);
    if (headTokens + suffixTokens - roleTokens(start) > budget) break;
    cut = start;
  }
  return cut;
}

/** Drops the oldest whole turns (a user message together with its assistant answer) until prompt + max_tokens fits; always keeps the system prompt and the newest user message. A missing max_tokens gets min(default, room left) (at least 1, else fail). An explicit max_tokens that does not fit even with only the newest message → not ok (the message says how many tokens were requested and how many fit, like OpenAI's context_length_exceeded). */
export function fitToContext(input: FitInput): FitResult {
  const { conversation, contextLength, maxTokens, defaultMaxTokens } = input;
  checkPositiveInt("contextLength", contextLength);
  checkPositiveInt("defaultMaxTokens", defaultMaxTokens);
  if (maxTokens !== null) checkPositiveInt("maxTokens", maxTokens);

  const encode = memoEncoder();
  const messages = conversation.messages;
  // Without max_tokens, keep room for the whole default answer while history can be dropped;
  // only a prompt that is long on its own gets a shorter answer.
  const completionTarget = maxTokens ?? defaultMaxTokens;
  const start = chooseCut(vicunaPieces(conversation), messages.length, contextLength - completionTarget, encode);

  const kept: VicunaConversation = { system: conversation.system, messages: messages.slice(start) };
  const tokens = encodePieces(vicunaPieces(kept), encode).tokens;
  const promptTokens = tokens.length;
  const room = contextLength - promptTokens;

  if (maxTokens !== null && maxTokens > room) {
    return {
      ok: false,
      code: "context_length_exceeded",
      promptTokens,
      message:
        `This model's maximum context length is ${contextLength} tokens. However, you requested ` +
        `${promptTokens + maxTokens} tokens (${promptTokens} in the messages, ${maxTokens} in the completion), ` +
        `even with only the system prompt and the newest message kept; at most ${Math.max(0, room)} completion ` +
        "tokens fit. Please reduce the length of the messages or completion.",
    };
  }
  if (room < 1) {
    return {
      ok: false,
      code: "context_length_exceeded",
      promptTokens,
      message:
        `This model's maximum context length is ${contextLength} tokens. However, the system prompt and the ` +
        `newest message alone take ${promptTokens} tokens, which leaves no room for a completion. ` +
        "Please reduce the length of the messages.",
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
