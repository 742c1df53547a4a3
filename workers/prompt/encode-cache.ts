/**
 * A least-recently-used cache of text encodings, one per tokenizer. Tokenizing is the gateway's
 * main CPU cost per request (about 15 µs per token), and the same texts come back all the time:
 * the system prompt on every request, each earlier message of a conversation on every later turn.
 */

/** Token ids kept by one cache, in all entries together (about 8 bytes each), unless configured. */
export const DEFAULT_ENCODE_CACHE_MAX_TOKENS = 250_000;
/** Longer texts are encoded each time rather than evicting many useful entries. */
const CACHE_MAX_TEXT_CHARS = 32_000;

// One limit for every tokenizer's cache: the tokenizers are per-isolate singletons, and so is the
// configuration that sizes them (ENCODE_CACHE_MAX_TOKENS).
let maxTokens = DEFAULT_ENCODE_CACHE_MAX_TOKENS;

/**
 * Sizes every encode cache of this isolate; 0 turns caching off, so each text is encoded as a
 * fresh isolate would (what a deployment spread over many isolates mostly sees, and what
 * bench:turns measures). Entries beyond a smaller limit go at the next insertion.
 */
export function setEncodeCacheMaxTokens(tokens: number): void {
  if (!Number.isInteger(tokens) || tokens < 0) throw new RangeError(`encode cache size must be a non-negative integer, got ${tokens}`);
  maxTokens = tokens;
}

export class EncodeCache {
  private readonly entries = new Map<string, number[]>();
  private tokens = 0;

  /**
   * The ids of `text` (with or without the dummy prefix) from the cache, computed with `encode`
   * on a miss. Returns a fresh array the caller may change.
   */
  encode(text: string, leadingSpace: boolean, encode: (text: string, leadingSpace: boolean) => number[]): number[] {
    if (maxTokens === 0) {
      // Caching was just turned off: what it held must not answer later either.
      if (this.entries.size > 0) this.clear();
      return encode(text, leadingSpace);
    }
    if (text.length > CACHE_MAX_TEXT_CHARS) return encode(text, leadingSpace);
    const key = (leadingSpace ? "1" : "0") + text;
    let ids = this.entries.get(key);
    if (ids !== undefined) {
      // Re-insert: a Map iterates in insertion order, so the oldest use comes first.
      this.entries.delete(key);
      this.entries.set(key, ids);
    } else {
      ids = encode(text, leadingSpace);
      this.set(key, ids);
    }
    return ids.slice();
  }

  private clear(): void {
    this.entries.clear();
    this.tokens = 0;
  }

  private set(key: string, ids: number[]): void {
    this.entries.set(key, ids);
    this.tokens += ids.length;
    for (const [oldKey, oldIds] of this.entries) {
      if (this.tokens <= maxTokens) break;
      this.entries.delete(oldKey);
      this.tokens -= oldIds.length;
    }
  }
}
