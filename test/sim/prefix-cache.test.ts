import { describe, expect, it } from "vitest";
import { BLOCK_SIZE_TOKENS, PrefixCache } from "../../gpu-backend/sim/prefix-cache.js";

/** `blocks` full blocks of distinct tokens starting at `from`, plus `extra` tokens. */
function tokens(from: number, blocks: number, extra = 0): number[] {
  return Array.from({ length: blocks * BLOCK_SIZE_TOKENS + extra }, (_, i) => from + i);
}

describe("PrefixCache lookup after insert", () => {
  const base = tokens(1000, 4, 5); // 69 tokens: 4 full blocks + 5
  it.each([
    { name: "same prompt", query: base, want: 64 },
    { name: "prompt extended by a turn", query: [...base, 7, 8, 9], want: 64 },
    { name: "first 2 blocks then different", query: [...base.slice(0, 32), ...tokens(5000, 3)], want: 32 },
    { name: "differs in the first token", query: [42, ...base.slice(1)], want: 0 },
    { name: "shorter than a block", query: base.slice(0, 10), want: 0 },
    // The last token is always computed, as in vLLM: an exact multiple hits all but the last block.
    { name: "exactly 4 blocks", query: base.slice(0, 64), want: 48 },
    { name: "4 blocks + 1 token", query: base.slice(0, 65), want: 64 },
  ])("$name -> $want cached tokens", ({ query, want }) => {
    const cache = new PrefixCache({ capacityBlocks: 100 });
    cache.insert(base);
    expect(cache.lookup(query)).toBe(want);
    expect(cache.stats()).toEqual({ queries: query.length, hits: want });
  });

  it("a block is identified by its whole prefix, not its own tokens", () => {
    const cache = new PrefixCache({ capacityBlocks: 100 });
    const a = tokens(0, 2, 1);
    cache.insert(a);
    // Same second block, different first block: no hit at all.
    const b = [...tokens(500, 1), ...a.slice(16)];
    expect(cache.lookup(b)).toBe(0);
  });

  it("empty cache and empty prompt", () => {
    const cache = new PrefixCache({ capacityBlocks: 10 });
    expect(cache.lookup([])).toBe(0);
    expect(cache.lookup(tokens(0, 3, 1))).toBe(0);
    expect(cache.stats()).toEqual({ queries: 49, hits: 0 });
  });
});

describe("PrefixCache capacity and LRU eviction", () => {
  it("usage counts blocks against capacity, never above 1", () => {
    const cache = new PrefixCache({ capacityBlocks: 4 });
    expect(cache.usage()).toBe(0);
    cache.insert(tokens(0, 2, 3));
    expect(cache.usage()).toBe(0.5);
    cache.insert(tokens(100, 6));
    expect(cache.usage()).toBe(1);
  });

  it("evicts the least recently used prompt first", () => {
    const cache = new PrefixCache({ capacityBlocks: 2 });
    const a = tokens(0, 1, 1);
    const b = tokens(100, 1, 1);
    const c = tokens(200, 1, 1);
    cache.insert(a);
    cache.insert(b);
    expect(cache.lookup(a)).toBe(16); // a is now more recent than b
    cache.insert(c);
    expect(cache.lookup(b)).toBe(0);
    expect(cache.lookup(a)).toBe(16);
    expect(cache.lookup(c)).toBe(16);
  });

  it("trims a chain from its end, keeping the shared head", () => {
    const cache = new PrefixCache({ capacityBlocks: 3 });
    const long = tokens(0, 3, 1);
    cache.insert(long);
    cache.insert(tokens(900, 1, 1)); // one block over capacity
    expect(cache.lookup(long)).toBe(32);
  });

  it("capacity 0 caches nothing", () => {
    const cache = new PrefixCache({ capacityBlocks: 0 });
    cache.insert(tokens(0, 3, 1));
    expect(cache.lookup(tokens(0, 3, 1))).toBe(0);
    expect(cache.usage()).toBe(0);
  });

  it("honours a custom block size", () => {
    const cache = new PrefixCache({ capacityBlocks: 10, blockSize: 4 });
    cache.insert([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(cache.lookup([1, 2, 3, 4, 5, 6, 7, 0, 0])).toBe(4);
  });

  it.each([{ capacityBlocks: -1 }, { capacityBlocks: 1.5 }, { capacityBlocks: 4, blockSize: 0 }])(
    "rejects %o",
    (o) => {
      expect(() => new PrefixCache(o)).toThrow(RangeError);
    },
  );

  it("keeps distinct prompts distinct at scale", () => {
    const cache = new PrefixCache({ capacityBlocks: 200_000 });
    for (let i = 0; i < 20_000; i++) cache.insert([i, ...tokens(7, 1)]); // 17 tokens -> 1 block each
    expect(cache.usage()).toBe(20_000 / 200_000);
  });
});
