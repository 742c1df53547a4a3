/**
 * The LLaMA / Vicuna tokenizer (SentencePiece BPE, 32k vocabulary), shared by the gateway (token
 * counts, token-id prompts) and the vLLM simulator (decoding token-id prompts). Pure: no I/O.
 */
import llamaTokenizer from "llama-tokenizer-js";

export const BOS_ID = 1;
export const EOS_ID = 2;
export const EOS_TEXT = "</s>";

/** Token ids kept by the encoding cache, in all entries together (about 8 bytes each). */
const ENCODE_CACHE_MAX_TOKENS = 250_000;
/** Longer texts are encoded each time rather than evicting many useful entries. */
const ENCODE_CACHE_MAX_TEXT_CHARS = 32_000;

/**
 * Least-recently-used cache of encodings. Tokenizing is the gateway's main CPU cost per request
 * (about 15 µs per token), and the same texts come back all the time: the system prompt on every
 * request, and each earlier message of a conversation on every later turn.
 */
class EncodeCache {
  private readonly entries = new Map<string, number[]>();
  private tokens = 0;

  get(key: string): number[] | undefined {
    const ids = this.entries.get(key);
    if (ids !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, ids);
    }
    return ids;
  }

  set(key: string, ids: number[]): void {
    this.entries.set(key, ids);
    this.tokens += ids.length;
    for (const [oldKey, oldIds] of this.entries) {
      if (this.tokens <= ENCODE_CACHE_MAX_TOKENS) break;
      this.entries.delete(oldKey);
      this.tokens -= oldIds.length;
    }
  }
}

const encodeCache = new EncodeCache();

/**
 * Text to token ids, without BOS. Special-token text such as "</s>" is tokenized as plain
 * characters, never as the EOS id: that is what keeps user text from ending a turn.
 * `leadingSpace` adds SentencePiece's dummy prefix, as a tokenizer does at the start of a text.
 * Returns a fresh array the caller may change.
 */
export function encodeText(text: string, options: { leadingSpace?: boolean } = {}): number[] {
  if (text === "") return [];
  const leadingSpace = options.leadingSpace ?? true;
  if (text.length > ENCODE_CACHE_MAX_TEXT_CHARS) return llamaTokenizer.encode(text, false, leadingSpace);
  const key = (leadingSpace ? "1" : "0") + text;
  let ids = encodeCache.get(key);
  if (ids === undefined) {
    ids = llamaTokenizer.encode(text, false, leadingSpace);
    encodeCache.set(key, ids);
  }
  return ids.slice();
}

/** Number of tokens `text` encodes to (with the dummy prefix, as at the start of a prompt). */
export function countTextTokens(text: string): number {
  return encodeText(text).length;
}

/**
 * Token ids to text as vLLM shows a prompt: a leading BOS is dropped, EOS is written as "</s>",
 * and the dummy prefix space of the first piece is removed.
 */
export function decodeTokens(ids: readonly number[]): string {
  const body = ids[0] === BOS_ID ? ids.slice(1) : ids.slice();
  let text = "";
  let segment: number[] = [];
  let atStart = true;
  const flush = (): void => {
    if (segment.length === 0) return;
    // llama-tokenizer-js drops the first id when add_bos_token is true and strips the dummy
    // prefix only when add_preceding_space is true; only the very first piece has that prefix.
    text += llamaTokenizer.decode(segment, false, atStart);
    segment = [];
    atStart = false;
  };
  for (const id of body) {
    if (id === EOS_ID) {
      flush();
      text += EOS_TEXT;
      atStart = false;
    } else if (id === BOS_ID) {
      flush();
      text += "<s>";
      atStart = false;
    } else {
      segment.push(id);
    }
  }
  flush();
  return text;
}
