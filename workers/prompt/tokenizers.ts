/**
 * The tokenizers the gateway renders prompts with, by name. Both are SentencePiece BPE models
 * with a byte fallback, run in JS: token counts and token-id prompts are computed here, so they
 * match what vLLM's Hugging Face tokenizer makes of the same model. Pure: no I/O.
 *
 * Both packages decode their vocabulary when first imported (roughly 90 ms each in Node): the
 * cost is paid once per isolate, not per request.
 */
/// <reference path="./mistral-tokenizer-js.d.ts" />
import llamaTokenizer from "llama-tokenizer-js";
import mistralTokenizer from "mistral-tokenizer-js";
import { EncodeCache } from "./encode-cache.js";
import { textHash } from "./stored-tokens.js";

/** Tokenizer names as they appear in the MODELS config. */
export const TOKENIZER_IDS = ["llama", "mistral"] as const;
export type TokenizerId = (typeof TOKENIZER_IDS)[number];

export interface Tokenizer {
  id: TokenizerId;
  /**
   * The name and a fingerprint of how this tokenizer encodes (the ids of a probe text that
   * exercises merges, spaces, newlines, byte fallback and special-token text): ids stored with a
   * message are reused only under the same revision, so a new vocabulary or a changed tokenizer
   * package makes stored ids stale by itself, without anyone remembering to bump a number.
   */
  readonly revision: string;
  bosId: number;
  eosId: number;
  /**
   * Text to token ids, without BOS. Special-token text such as "</s>" or "<|im_start|>" is
   * tokenized as plain characters, never as the special id: that is what keeps message text from
   * ending a turn. `leadingSpace` (default true) adds SentencePiece's dummy prefix, as at the start
   * of a text. LRU-cached per tokenizer; returns a fresh array the caller may change.
   */
  encode(text: string, options?: { leadingSpace?: boolean }): number[];
  /**
   * Token ids to text as vLLM shows a prompt: a leading BOS is dropped, special ids are written
   * as their text ("</s>", "<s>", "<|im_start|>"), and the dummy prefix space of the first text
   * and of text after a special id in `dummyPrefixAfter` is removed.
   */
  decode(ids: readonly number[]): string;
  /** Special tokens by their text: the only way a prompt gets these ids. */
  specialIds: Readonly<Record<string, number>>;
  /**
   * Special ids after which the text that follows starts a new SentencePiece sequence and so
   * gets the dummy prefix ("▁"), as vLLM's tokenizer for this model tokenizes it. Prompt
   * rendering and `decode` both follow this, which keeps decode(render) equal to the text.
   */
  dummyPrefixAfter: ReadonlySet<number>;
}

/** The shape both tokenizer packages share. */
interface SentencePieceModel {
  encode(text: string, addBosToken?: boolean, addPrecedingSpace?: boolean): number[];
  decode(ids: number[], addBosToken?: boolean, addPrecedingSpace?: boolean): string;
}

interface SentencePieceDefinition {
  id: TokenizerId;
  model: SentencePieceModel;
  specialIds: Readonly<Record<string, number>>;
  dummyPrefixAfter: readonly string[];
}

// Merges, runs of spaces, newlines and tabs, digits, punctuation, byte-fallback characters
// (CJK, emoji), a word joiner and special-token text: what the tokenizer must keep doing the same.
const FINGERPRINT_PROBE = "The llamas' 12 woolly friends\n\n  grazed\ttogether: ünïcödé, 你好, 👋🏽 and \u2060USER: </s><s><|im_start|>";

function sentencePieceTokenizer(def: SentencePieceDefinition): Tokenizer {
  const cache = new EncodeCache();
  let revision: string | null = null;
  const textOfSpecial = new Map<number, string>(Object.entries(def.specialIds).map(([text, id]) => [id, text]));
  const idOf = (text: string): number => {
    const id = def.specialIds[text];
    if (id === undefined) throw new Error(`tokenizer ${def.id} has no special token ${text}`);
    return id;
  };
  const bosId = idOf("<s>");
  const dummyPrefixAfter: ReadonlySet<number> = new Set(def.dummyPrefixAfter.map(idOf));
  const rawEncode = (text: string, leadingSpace: boolean): number[] => def.model.encode(text, false, leadingSpace);

  return {
    id: def.id,
    // Computed on first use: one short encode per isolate, only for conversation turns.
    get revision() {
      revision ??= `${def.id}.${textHash(`${rawEncode(FINGERPRINT_PROBE, true).join(",")}|${rawEncode(FINGERPRINT_PROBE, false).join(",")}`)}`;
      return revision;
    },
    bosId,
    eosId: idOf("</s>"),
    specialIds: def.specialIds,
    dummyPrefixAfter,
    encode(text, options = {}) {
      if (text === "") return [];
      return cache.encode(text, options.leadingSpace ?? true, rawEncode);
    },
    decode(ids) {
      let text = "";
      let segment: number[] = [];
      // The start of the prompt carries the dummy prefix, as does text after some specials.
      let prefixed = true;
      const flush = (): void => {
        if (segment.length === 0) return;
        // Decode without the packages' own prefix handling, which drops the first character
        // whether or not it is the dummy space.
        const piece = def.model.decode(segment, false, false);
        text += prefixed && piece.startsWith(" ") ? piece.slice(1) : piece;
        segment = [];
      };
      ids.forEach((id, index) => {
        const special = textOfSpecial.get(id);
        if (special === undefined) {
          segment.push(id);
          return;
        }
        flush();
        if (!(index === 0 && id === bosId)) text += special;
        prefixed = dummyPrefixAfter.has(id);
      });
      flush();
      return text;
    },
  };
}

/**
 * LLaMA's tokenizer (32k vocabulary): Vicuna v1.1/v1.5, Llama-2. Only BOS starts a new
 * SentencePiece sequence: text after EOS has no dummy prefix ("</s>USER:" → EOS, "USER", ":"),
 * as Vicuna v1.5's tokenizer (legacy=false) and FastChat's training do, while text after a BOS
 * mid-prompt has it, as Meta's Llama-2 reference encodes each "[INST] … [/INST] … " turn on its own.
 */
const llama = sentencePieceTokenizer({
  id: "llama",
  model: llamaTokenizer,
  specialIds: { "<s>": 1, "</s>": 2 },
  dummyPrefixAfter: ["<s>"],
});

/**
 * Mistral 7B's tokenizer (32k vocabulary) with ChatML's two added tokens as
 * teknium/OpenHermes-2.5-Mistral-7B defines them: `<|im_end|>` = 32000, `<|im_start|>` = 32001.
 * That is the ChatML model served here; another ChatML fine-tune numbering them differently
 * needs its own entry. Mistral's Hugging Face tokenizer (legacy) normalises every stretch of
 * text between special tokens on its own, prepending "▁": so text after any special id gets the
 * dummy prefix ("<|im_start|>user" → 32001, "▁user").
 */
const mistral = sentencePieceTokenizer({
  id: "mistral",
  model: mistralTokenizer,
  specialIds: { "<s>": 1, "</s>": 2, "<|im_end|>": 32000, "<|im_start|>": 32001 },
  dummyPrefixAfter: ["<s>", "</s>", "<|im_end|>", "<|im_start|>"],
});

const TOKENIZERS: Readonly<Record<TokenizerId, Tokenizer>> = { llama, mistral };

export function getTokenizer(id: TokenizerId): Tokenizer {
  return TOKENIZERS[id];
}
