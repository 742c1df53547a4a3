/**
 * The LLaMA / Vicuna tokenizer under its historical names, shared with the vLLM simulator and
 * the benches (which serve Vicuna). New code takes a Tokenizer from tokenizers.ts.
 */
import { getTokenizer } from "./tokenizers.js";

const llama = getTokenizer("llama");

export const BOS_ID: number = llama.bosId;
export const EOS_ID: number = llama.eosId;
export const EOS_TEXT = "</s>";

/**
 * Text to LLaMA token ids, without BOS; "</s>" in text stays plain characters. `leadingSpace`
 * (default true) adds SentencePiece's dummy prefix. Returns a fresh array the caller may change.
 */
export function encodeText(text: string, options: { leadingSpace?: boolean } = {}): number[] {
  return llama.encode(text, options);
}

/** Number of tokens `text` encodes to (with the dummy prefix, as at the start of a prompt). */
export function countTextTokens(text: string): number {
  return llama.encode(text).length;
}

/** LLaMA token ids to text as vLLM shows a prompt (leading BOS dropped, EOS written "</s>"). */
export function decodeTokens(ids: readonly number[]): string {
  return llama.decode(ids);
}
