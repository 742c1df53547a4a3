import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_ENCODE_CACHE_MAX_TOKENS, EncodeCache, setEncodeCacheMaxTokens } from "../../workers/prompt/encode-cache.js";

/** A fake encoder: one id per character, counting its calls. */
function counting(): { encode: (text: string, leadingSpace: boolean) => number[]; calls: string[] } {
  const calls: string[] = [];
  return { calls, encode: (text, leadingSpace) => (calls.push(`${leadingSpace ? "_" : ""}${text}`), [...text].map((c) => c.charCodeAt(0))) };
}

afterEach(() => setEncodeCacheMaxTokens(DEFAULT_ENCODE_CACHE_MAX_TOKENS));

describe("encode cache size (ENCODE_CACHE_MAX_TOKENS)", () => {
  it.each([
    // limit, texts encoded in order, encoder calls expected
    [DEFAULT_ENCODE_CACHE_MAX_TOKENS, ["abc", "abc", "de", "abc"], ["abc", "de"]],
    [0, ["abc", "abc", "de", "abc"], ["abc", "abc", "de", "abc"]],
    // 5 ids fit: "abc" then "de" fill it, "fg" evicts the least recently used ("abc")
    [5, ["abc", "de", "fg", "de", "abc"], ["abc", "de", "fg", "abc"]],
    // a use refreshes an entry: "abc" was used after "de", so "de" goes first
    [5, ["abc", "de", "abc", "fg", "abc", "de"], ["abc", "de", "fg", "de"]],
  ])("limit %i: %j encodes %j", (limit, texts, expected) => {
    setEncodeCacheMaxTokens(limit);
    const cache = new EncodeCache();
    const fake = counting();
    for (const t of texts) expect(cache.encode(t, false, fake.encode)).toEqual([...t].map((c) => c.charCodeAt(0)));
    expect(fake.calls).toEqual(expected);
  });

  it("keys by the dummy prefix as well as the text", () => {
    const cache = new EncodeCache();
    const fake = counting();
    cache.encode("x", true, fake.encode);
    cache.encode("x", false, fake.encode);
    cache.encode("x", true, fake.encode);
    expect(fake.calls).toEqual(["_x", "x"]);
  });

  it("turned off, forgets what it held: nothing cached before answers afterwards", () => {
    const cache = new EncodeCache();
    const fake = counting();
    cache.encode("abc", false, fake.encode);
    setEncodeCacheMaxTokens(0);
    cache.encode("abc", false, fake.encode);
    setEncodeCacheMaxTokens(DEFAULT_ENCODE_CACHE_MAX_TOKENS);
    cache.encode("abc", false, fake.encode);
    expect(fake.calls).toEqual(["abc", "abc", "abc"]);
  });

  it("returns a copy the caller may change", () => {
    const cache = new EncodeCache();
    const fake = counting();
    cache.encode("ab", false, fake.encode).push(0);
    expect(cache.encode("ab", false, fake.encode)).toEqual([97, 98]);
  });

  it.each([-1, 1.5, Number.NaN])("rejects the size %d", (size) => {
    expect(() => setEncodeCacheMaxTokens(size)).toThrow(RangeError);
  });
});
