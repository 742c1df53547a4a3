/**
 * A rendered prompt as pieces, and the one way pieces become token ids. Families cut their
 * prompts where SentencePiece never merges across (before a "▁" that follows a non-space, around
 * a newline — no LLaMA or Mistral vocabulary entry contains either mid-token — or at a special
 * token), so each text piece is encoded on its own and the ids concatenated: a message's ids can
 * then be counted once and summed, and message text can never fuse with a marker. Pure: no I/O.
 */
import type { Tokenizer } from "./tokenizers.js";

/**
 * One piece of a prompt. `text` pieces are tokenized; `special` pieces are one special id, named
 * by its token text (`token`, e.g. "</s>", "<|im_start|>") and shown in the text rendering as
 * `text` (the leading BOS shows as "", as in FastChat's get_prompt). `message` is the index in the
 * conversation's messages (the open assistant turn has index messages.length; null: head).
 */
export type PromptPiece =
  | { kind: "text"; part: "system" | "marker" | "message"; text: string; message: number | null }
  | { kind: "special"; token: string; text: string; message: number | null };

/** Encodes one text piece; `leadingSpace` = the piece starts a SentencePiece sequence. */
export type PieceEncoder = (text: string, leadingSpace: boolean) => number[];

/** Token ids of a prompt and the [start, end) span of every system and message text piece. */
export interface TokenLayout {
  tokens: number[];
  spans: Array<{ part: "system" | "message"; message: number | null; start: number; end: number }>;
}

/** The tokenizer's own (LRU-cached) encoder. */
export function tokenizerEncoder(tokenizer: Tokenizer): PieceEncoder {
  return (text, leadingSpace) => tokenizer.encode(text, { leadingSpace });
}

/**
 * One request's piece encodings, keyed by text and dummy prefix. `seed` records ids known
 * without encoding (stored with the message); `peek` reads what is there without encoding.
 */
export interface PieceMemo {
  encode: PieceEncoder;
  seed(text: string, leadingSpace: boolean, ids: number[]): void;
  peek(text: string, leadingSpace: boolean): number[] | undefined;
}

export function pieceMemo(tokenizer: Tokenizer): PieceMemo {
  const cache = [new Map<string, number[]>(), new Map<string, number[]>()] as const;
  const map = (leadingSpace: boolean) => cache[leadingSpace ? 1 : 0];
  return {
    encode: (text, leadingSpace) => {
      let ids = map(leadingSpace).get(text);
      if (ids === undefined) {
        ids = tokenizer.encode(text, { leadingSpace });
        map(leadingSpace).set(text, ids);
      }
      return ids;
    },
    seed: (text, leadingSpace, ids) => void map(leadingSpace).set(text, ids),
    peek: (text, leadingSpace) => map(leadingSpace).get(text),
  };
}

/** Memoises piece encodings for one request (keyed by text and prefix), over `tokenizer`. */
export function memoEncoder(tokenizer: Tokenizer): PieceEncoder {
  return pieceMemo(tokenizer).encode;
}

/** The id of a special piece; a token the tokenizer lacks is a family/tokenizer mismatch. */
export function specialId(tokenizer: Tokenizer, token: string): number {
  const id = tokenizer.specialIds[token];
  if (id === undefined) throw new Error(`The ${tokenizer.id} tokenizer has no special token ${token}.`);
  return id;
}

/**
 * Whether a text piece after `previous` starts a SentencePiece sequence: at the very start, or
 * after a special id the tokenizer prefixes (see Tokenizer.dummyPrefixAfter).
 */
export function startsSequence(tokenizer: Tokenizer, previous: PromptPiece | null): boolean {
  if (previous === null) return true;
  if (previous.kind === "text") return false;
  return tokenizer.dummyPrefixAfter.has(specialId(tokenizer, previous.token));
}

/**
 * Encodes pieces to ids. `previous` is the piece before the first one (null: prompt start), so a
 * run of pieces from the middle of a prompt encodes exactly as it does in the whole prompt.
 */
export function encodePieces(
  tokenizer: Tokenizer,
  pieces: readonly PromptPiece[],
  encode: PieceEncoder,
  previous: PromptPiece | null = null,
): TokenLayout {
  const tokens: number[] = [];
  const spans: TokenLayout["spans"] = [];
  let before = previous;
  for (const piece of pieces) {
    if (piece.kind === "special") {
      tokens.push(specialId(tokenizer, piece.token));
    } else {
      const start = tokens.length;
      for (const id of encode(piece.text, startsSequence(tokenizer, before))) tokens.push(id);
      if (piece.part !== "marker") spans.push({ part: piece.part, message: piece.message, start, end: tokens.length });
    }
    before = piece;
  }
  return { tokens, spans };
}

/** Number of ids the pieces encode to after `previous` (see encodePieces). */
export function countPieces(
  tokenizer: Tokenizer,
  pieces: readonly PromptPiece[],
  encode: PieceEncoder,
  previous: PromptPiece | null,
): number {
  let count = 0;
  let before = previous;
  for (const piece of pieces) {
    count += piece.kind === "special" ? 1 : encode(piece.text, startsSequence(tokenizer, before)).length;
    before = piece;
  }
  return count;
}

/** The text rendering of pieces. */
export function piecesText(pieces: readonly PromptPiece[]): string {
  return pieces.map((p) => p.text).join("");
}
