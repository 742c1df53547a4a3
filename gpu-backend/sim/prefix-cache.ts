/**
 * vLLM-style automatic prefix cache, counted in blocks of 16 tokens. A block is identified by a
 * chained hash of every token up to its end, so two prompts share a block only when they share the
 * whole prefix. Pure and allocation-light: the cluster benchmark runs it over millions of tokens.
 */

export const BLOCK_SIZE_TOKENS = 16;

const FNV_PRIME_32 = 0x01000193;
const FNV_OFFSET_A = 0x811c9dc5;
// A second lane with another seed and odd multiplier (MurmurHash2's): its top 21 bits plus lane
// A's 32 give a 53-bit block key, so collisions stay negligible at millions of blocks where 32
// bits alone would already collide. (Top bits: a multiply mixes upwards only.)
const LANE_B_OFFSET = 0x050c5d1f;
const LANE_B_MULTIPLIER = 0x5bd1e995;
const TWO_POW_32 = 0x1_0000_0000;

/** Least-recently-used set of chained block hashes. */
export class PrefixCache {
  private readonly capacityBlocks: number;
  private readonly blockSize: number;
  // A Map iterates in insertion order: delete + set moves a key to the most recent end.
  private readonly blocks = new Map<number, true>();
  private queries = 0;
  private hits = 0;
  /**
   * One long-lived iterator for eviction: every key before its position has been evicted, so its
   * next key is the oldest live one. A fresh `keys()` per eviction would re-walk the deleted slots
   * at the front of the Map, which made eviction the simulation's hottest path.
   */
  private evictionCursor: Iterator<number> | null = null;

  constructor(o: { capacityBlocks: number; blockSize?: number }) {
    if (!Number.isInteger(o.capacityBlocks) || o.capacityBlocks < 0) {
      throw new RangeError(`capacityBlocks must be a non-negative integer, got ${o.capacityBlocks}`);
    }
    const blockSize = o.blockSize ?? BLOCK_SIZE_TOKENS;
    if (!Number.isInteger(blockSize) || blockSize < 1) {
      throw new RangeError(`blockSize must be a positive integer, got ${blockSize}`);
    }
    this.capacityBlocks = o.capacityBlocks;
    this.blockSize = blockSize;
  }

  /**
   * Cached tokens for this prompt = full leading blocks already present (touches them as recently
   * used); counts a query + hits. As in vLLM, the last prompt token is always computed, so a
   * prompt that is an exact multiple of the block size can hit at most all blocks but the last.
   */
  lookup(tokens: readonly number[]): number {
    const maxBlocks = Math.floor(Math.max(0, tokens.length - 1) / this.blockSize);
    const keys = this.blockKeys(tokens, maxBlocks);
    let hitBlocks = 0;
    while (hitBlocks < keys.length && this.blocks.has(keys[hitBlocks]!)) hitBlocks++;
    this.touch(keys, hitBlocks);
    const cachedTokens = hitBlocks * this.blockSize;
    this.queries += tokens.length;
    this.hits += cachedTokens;
    return cachedTokens;
  }

  /**
   * Stores the prompt's full blocks (chained hashes: a block is identified by all tokens up to
   * it), evicting least recently used blocks beyond capacity.
   */
  insert(tokens: readonly number[]): void {
    const keys = this.blockKeys(tokens, Math.floor(tokens.length / this.blockSize));
    this.touch(keys, keys.length);
    while (this.blocks.size > this.capacityBlocks) {
      this.evictionCursor ??= this.blocks.keys();
      let oldest = this.evictionCursor.next();
      if (oldest.done === true) {
        // An exhausted iterator stays exhausted: start again from the front.
        this.evictionCursor = this.blocks.keys();
        oldest = this.evictionCursor.next();
        if (oldest.done === true) break;
      }
      this.blocks.delete(oldest.value);
    }
  }

  /** Used blocks / capacity, 0..1. */
  usage(): number {
    return this.capacityBlocks === 0 ? 0 : this.blocks.size / this.capacityBlocks;
  }

  /** Query and hit counts in TOKENS, like vllm:prefix_cache_queries_total / hits_total. */
  stats(): { queries: number; hits: number } {
    return { queries: this.queries, hits: this.hits };
  }

  /**
   * Marks the first `count` keys as most recently used. The chain is touched tail first so the
   * head ends up most recent: eviction then trims a prefix from its end (as vLLM frees a
   * request's blocks in reverse), never orphaning the later blocks of a chain.
   */
  private touch(keys: readonly number[], count: number): void {
    for (let i = count - 1; i >= 0; i--) {
      const key = keys[i]!;
      this.blocks.delete(key);
      this.blocks.set(key, true);
    }
  }

  /** Chained FNV-1a-style keys of the first `blockCount` full blocks. */
  private blockKeys(tokens: readonly number[], blockCount: number): number[] {
    const keys = new Array<number>(blockCount);
    let a = FNV_OFFSET_A;
    let b = LANE_B_OFFSET;
    for (let block = 0; block < blockCount; block++) {
      const end = (block + 1) * this.blockSize;
      for (let i = block * this.blockSize; i < end; i++) {
        const t = tokens[i]! | 0;
        // Two bytes per step rather than four: fewer multiplies, still every bit of the id.
        a = Math.imul(a ^ (t & 0xffff), FNV_PRIME_32);
        a = Math.imul(a ^ (t >>> 16), FNV_PRIME_32);
        b = Math.imul(b ^ (t & 0xffff), LANE_B_MULTIPLIER);
        b = Math.imul(b ^ (t >>> 16), LANE_B_MULTIPLIER);
      }
      // Mark the block boundary so [x | y z] and [x y | z] chains differ even at other sizes.
      a = Math.imul(a ^ 0xb10c, FNV_PRIME_32);
      b = Math.imul(b ^ 0xb10c, LANE_B_MULTIPLIER);
      keys[block] = (b >>> 11) * TWO_POW_32 + (a >>> 0);
    }
    return keys;
  }
}
