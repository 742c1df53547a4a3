/**
 * Fits a conversation into the model's context window by dropping the oldest whole turns.
 * Pure: no I/O. Every message is tokenized once; the cost of each candidate cut is a suffix sum,
 * and the chosen prompt is assembled from the cached piece encodings by the same code path as
 * renderVicunaTokens, so promptTokens is the exact length of the ids sent.
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
 * Prompt length, in tokens, when messages before `start` are dropped, for every even `start`.
 * A kept suffix renders exactly like the full prompt from message `start` on, except that its
 * first role marker is the one that follows the system prompt — the same piece as message 0's.
 */
function costsByCut(pieces: readonly PromptPiece[], messageCount: number, encode: PieceEncoder): (start: number) => number {
  const perMessage = new Array<number>(messageCount + 1).fill(0);
  const roleTokens = new Array<number>(messageCount + 1).fill(0);
  let headTokens = 1; // BOS
  pieces.forEach((piece, index) => {
    const n = piece.kind === "eos" ? 1 : encode(piece.text, index === 0).length;
    if (piece.kind === "system") {
      headTokens += n;
      return;
    }
    perMessage[piece.message]! += n;
    if (piece.kind === "role") roleTokens[piece.message] = n;
  });
  const suffix = new Array<number>(messageCount + 2).fill(0);
  for (let i = messageCount; i >= 0; i--) suffix[i] = suffix[i + 1]! + perMessage[i]!;
  const firstRoleTokens = roleTokens[0]!;
  return (start) => headTokens + firstRoleTokens + suffix[start]! - roleTokens[start]!;
}

/** Drops the oldest whole turns (a user message together with its assistant answer) until prompt + max_tokens fits; always keeps the system prompt and the newest user message. A missing max_tokens gets min(default, room left) (at least 1, else fail). An explicit max_tokens that does not fit even with only the newest message → not ok (the message says how many tokens were requested and how many fit, like OpenAI's context_length_exceeded). */
export function fitToContext(input: FitInput): FitResult {
  const { conversation, contextLength, maxTokens, defaultMaxTokens } = input;
  checkPositiveInt("contextLength", contextLength);
  checkPositiveInt("defaultMaxTokens", defaultMaxTokens);
  if (maxTokens !== null) checkPositiveInt("maxTokens", maxTokens);

  const encode = memoEncoder();
  const messages = conversation.messages;
  const costAt = costsByCut(vicunaPieces(conversation), messages.length, encode);
  const newest = messages.length - 1;
  // Without max_tokens, keep room for the whole default answer while history can be dropped;
  // only a prompt that is long on its own gets a shorter answer.
  const completionTarget = maxTokens ?? defaultMaxTokens;
  let start = 0;
  while (start < newest && costAt(start) + completionTarget > contextLength) start += 2;

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
