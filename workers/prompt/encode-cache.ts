/**
 * A least-recently-used cache of text encodings, one per tokenizer. Tokenizing is the gateway's
 * main CPU cost per request (about 15 µs per token), and the same texts come back all the time:
 * the system prompt on every request, each earlier message of a conversation on every later turn.
 */

/** Token ids kept by one cache, in all entries together (about 8 bytes each). */
const CACHE_MAX_TOKENS = 250_000;
/** Longer texts are encoded each time rather than evicting many useful entries. */
const CACHE_MAX_TEXT_CHARS = 32_000;

export class EncodeCache {
  private readonly entries = new Map<string, number[]>();
  private tokens = 0;

  /**
   * The ids of `text` (with or without the dummy prefix) from the cache, computed with `encode`
   * on a miss. Returns a fresh array the caller may change.
   */
  encode(text: string, leadingSpace: boolean, encode: (text: string, leadingSpace: boolean) => number[]): number[] {
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

  private set(key: string, ids: number[]): void {
    this.entries.set(key, ids);
    this.tokens += ids.length;
    for (const [oldKey, oldIds] of this.entries) {
      if (this.tokens <= CACHE_MAX_TOKENS) break;
      this.entries.delete(oldKey);
      this.tokens -= oldIds.length;
    }
  }
}
