/**
 * What the simulated model "generates": the reply's token ids (echo of the prompt, of the last
 * user turn, or seeded lorem), cut by max_tokens and stop strings, with the text each token adds
 * to the stream. Pure: the same inputs always give the same plan.
 */
import llamaTokenizer from "llama-tokenizer-js";
import { decodeTokens, encodeText, EOS_ID } from "../../workers/prompt/tokenizer.js";
import type { Tokenizer } from "../../workers/prompt/index.js";
import type { ReplyLength, ReplyMode, Seeding } from "./config.js";
import { drawReplyTokens } from "./reply-length.js";
import { hashString, mulberry32 } from "./random.js";

export type FinishReason = "stop" | "length";

/** The whole generation, decided up front; the engine only paces it. */
export interface ReplyPlan {
  /** Generated token ids, including a final EOS when the reply ends by itself. */
  tokenIds: number[];
  /** Text each generated token adds (may be "" while a UTF-8 sequence is incomplete). */
  deltas: string[];
  /** The completion text: exactly the concatenation of `deltas`. */
  text: string;
  finishReason: FinishReason;
  /** The stop string that ended the reply, as vLLM's `stop_reason`; null for EOS or length. */
  stopReason: string | null;
}

/** The prompt a reply is made from: the text as rendered, and for chat the messages. */
export interface ReplySource {
  promptText: string;
  /** Content of the last user message, when the request came through /v1/chat/completions. */
  lastUserMessage?: string;
}

// ---------------------------------------------------------------- reply token ids

/** The text between the last `USER: ` and the following ` ASSISTANT:` of a Vicuna prompt. */
export function lastUserTurn(prompt: string): string | null {
  const USER = "USER: ";
  const start = prompt.lastIndexOf(USER);
  if (start === -1) return null;
  const from = start + USER.length;
  const end = prompt.indexOf(" ASSISTANT:", from);
  return end === -1 ? prompt.slice(from) : prompt.slice(from, end);
}

/**
 * Reply token ids (without EOS) before max_tokens and stop strings apply. `seed` picks the lorem
 * text together with the prompt; `naturalLength` (a drawn answer length) makes lorem stop before
 * max_tokens, as a model's answer does; absent, lorem runs to max_tokens.
 */
export function replyTokenIds(o: { mode: ReplyMode; source: ReplySource; maxTokens: number; seed: number; naturalLength?: number }): number[] {
  switch (o.mode) {
    case "echo-prompt":
      return encodeText(o.source.promptText, { leadingSpace: false });
    case "echo": {
      const text = o.source.lastUserMessage ?? lastUserTurn(o.source.promptText) ?? o.source.promptText;
      return encodeText(text, { leadingSpace: false });
    }
    case "lorem":
      return loremTokenIds({ seed: (hashString(o.source.promptText) ^ o.seed) >>> 0, count: Math.min(o.maxTokens, o.naturalLength ?? o.maxTokens) });
  }
}

/**
 * The seed and natural length of one reply. With `request` seeding, a request that samples
 * (temperature > 0, or absent: vLLM's default is 1) gets its own seed — its `seed` field, else a
 * fresh draw — so asking twice gives two answers, as Regenerate expects; temperature 0 (or
 * `prompt` seeding) keeps the text fixed by the prompt. With `sharegpt` lengths the answer stops
 * at a length drawn from the same seed and prompt, unless the request sets vLLM's `ignore_eos`.
 */
export function replySampling(o: {
  seeding: Seeding;
  replyLength: ReplyLength;
  configSeed: number;
  temperature: number | null;
  requestSeed: number | null;
  promptText: string;
  fresh: () => number;
  /** vLLM's `ignore_eos`: the model never ends by itself, so only max_tokens (or a stop) does. */
  ignoreEos?: boolean;
}): { seed: number; naturalLength?: number } {
  const sampled = o.seeding === "request" && (o.temperature ?? 1) > 0;
  const seed = sampled ? (o.requestSeed ?? Math.floor(o.fresh() * 2 ** 32)) >>> 0 : o.configSeed;
  if (o.replyLength === "max" || o.ignoreEos === true) return { seed };
  // A different stream from the text's own (which mixes the prompt hash with the seed the same way).
  const lengthSeed = (hashString(o.promptText) ^ seed ^ 0x9e3779b9) >>> 0;
  return { seed, naturalLength: drawReplyTokens(mulberry32(lengthSeed)) };
}

const LOREM_WORDS = [
  "lorem", "ipsum", "dolor", "sit", "amet", "the", "model", "answer", "question", "simple", "quick",
  "light", "river", "stone", "north", "small", "great", "water", "green", "time", "world", "over",
  "under", "every", "other", "about", "after", "before", "again", "still", "never",
  "always", "story", "number", "point", "place", "start", "end", "line", "word", "idea", "mountain",
];

/** Single-token words (with their leading space) and a sentence-ending period, from the vocabulary. */
const LOREM_VOCAB = (() => {
  const words = LOREM_WORDS.flatMap((w) => {
    const lower = llamaTokenizer.vocabByString.get(`▁${w}`);
    const upper = llamaTokenizer.vocabByString.get(`▁${w[0]!.toUpperCase()}${w.slice(1)}`);
    return lower === undefined ? [] : [{ lower, upper: upper ?? lower }];
  });
  const period = llamaTokenizer.vocabByString.get(".");
  if (words.length === 0 || period === undefined) throw new Error("lorem vocabulary missing from the tokenizer");
  return { words, period };
})();

/** Seeded pseudo-sentences of exactly `count` tokens, each word one token. */
export function loremTokenIds(o: { seed: number; count: number }): number[] {
  const random = mulberry32(o.seed);
  const ids: number[] = [];
  let sentenceLeft = 0;
  while (ids.length < o.count) {
    if (sentenceLeft === 0 && ids.length > 0) {
      ids.push(LOREM_VOCAB.period);
      sentenceLeft = -1;
      continue;
    }
    const word = LOREM_VOCAB.words[Math.floor(random() * LOREM_VOCAB.words.length)]!;
    ids.push(sentenceLeft <= 0 ? word.upper : word.lower);
    sentenceLeft = sentenceLeft <= 0 ? 5 + Math.floor(random() * 10) : sentenceLeft - 1;
  }
  return ids;
}

// ---------------------------------------------------------------- incremental decoding

const pieceBytesCache = new Map<number, Uint8Array>();
const utf8 = new TextEncoder();

/** UTF-8 bytes a token contributes: its piece with ▁ as space, or the raw byte of <0xNN>. */
function pieceBytes(id: number): Uint8Array {
  const cached = pieceBytesCache.get(id);
  if (cached !== undefined) return cached;
  const piece = llamaTokenizer.vocabById[id] ?? "";
  const bytes = /^<0x[0-9A-Fa-f]{2}>$/.test(piece)
    ? Uint8Array.of(Number.parseInt(piece.slice(3, 5), 16))
    : utf8.encode(piece.replaceAll("▁", " "));
  pieceBytesCache.set(id, bytes);
  return bytes;
}

/**
 * Text added by each token of a generated sequence. A streaming UTF-8 decoder holds back an
 * incomplete multi-byte sequence (byte-fallback tokens such as <0xF0>) until it completes; at
 * the end a dangling sequence becomes U+FFFD, as a full decode would show it. EOS adds nothing.
 */
export function tokenDeltas(ids: readonly number[]): string[] {
  const decoder = new TextDecoder("utf-8");
  const deltas = ids.map((id) => (id === EOS_ID ? "" : decoder.decode(pieceBytes(id), { stream: true })));
  if (deltas.length > 0) deltas[deltas.length - 1] += decoder.decode();
  return deltas;
}

// ---------------------------------------------------------------- limits

/**
 * Applies max_tokens and stop strings to the reply, as vLLM does while generating: the first
 * stop string to appear ends the reply (its text excluded, finish "stop"); otherwise max_tokens
 * cuts it (finish "length"); otherwise the model emits EOS (finish "stop", EOS counted).
 */
export function planReply(o: { tokenIds: readonly number[]; maxTokens: number; stop?: readonly string[] }): ReplyPlan {
  const ids = o.tokenIds.slice(0, o.maxTokens);
  const deltas = tokenDeltas(ids);
  const stops = (o.stop ?? []).filter((s) => s.length > 0);
  let text = "";
  for (let k = 0; k < ids.length; k++) {
    const before = text.length;
    text += deltas[k]!;
    const hit = findStop(text, before, stops);
    if (hit !== null) {
      // A stop string may begin in an earlier token's delta: nothing is sent before the plan is
      // made, so those deltas are trimmed too and no part of the stop string is ever streamed.
      const cut = text.slice(0, hit.index);
      const keptDeltas = deltas.slice(0, k + 1);
      trimDeltasTo(keptDeltas, cut.length);
      return { tokenIds: ids.slice(0, k + 1), deltas: keptDeltas, text: cut, finishReason: "stop", stopReason: hit.stop };
    }
  }
  if (o.tokenIds.length >= o.maxTokens) {
    return { tokenIds: ids, deltas, text, finishReason: "length", stopReason: null };
  }
  return { tokenIds: [...ids, EOS_ID], deltas: [...deltas, ""], text, finishReason: "stop", stopReason: null };
}

/** The earliest-ending stop string that appears in `text` and was not complete before `before`. */
function findStop(text: string, before: number, stops: readonly string[]): { index: number; stop: string } | null {
  let best: { index: number; stop: string } | null = null;
  for (const stop of stops) {
    const index = text.indexOf(stop, Math.max(0, before - stop.length + 1));
    if (index === -1) continue;
    if (best === null || index + stop.length < best.index + best.stop.length) best = { index, stop };
  }
  return best;
}

/** Shortens deltas in place so they concatenate to exactly `length` characters. */
function trimDeltasTo(deltas: string[], length: number): void {
  let used = 0;
  for (let i = 0; i < deltas.length; i++) {
    const room = Math.max(0, length - used);
    if (deltas[i]!.length > room) deltas[i] = deltas[i]!.slice(0, room);
    used += deltas[i]!.length;
  }
}

// ---------------------------------------------------------------- helpers

/** The echo of a token-id prompt: its text as vLLM shows it, with the served model's tokenizer. */
export function promptTextOfIds(ids: readonly number[], tokenizer?: Tokenizer): string {
  return tokenizer === undefined ? decodeTokens(ids) : tokenizer.decode(ids);
}
