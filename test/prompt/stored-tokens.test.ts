/**
 * Token ids stored with messages: packing, the key that says what they encode, and the decision
 * whether stored ids may stand in for encoding a message again. Pure tables.
 */
import { describe, expect, it } from "vitest";
import { packTokenIds, reusableIds, textHash, tokensKey, unpackTokenIds, type StoredTokens } from "../../workers/prompt/stored-tokens.js";

describe("packing token ids", () => {
  it.each([
    [[], 2, []],
    [[1, 2, 29871, 32000, 32001], 2, [1, 0, 2, 0, 0xaf, 0x74, 0x00, 0x7d, 0x01, 0x7d]],
    [[0xffff], 2, [0xff, 0xff]],
    [[0x10000], 4, [0, 0, 1, 0]],
    [[5, 128_255], 4, [5, 0, 0, 0, 0xff, 0xf4, 0x01, 0x00]],
    [[0xffff_ffff], 4, [0xff, 0xff, 0xff, 0xff]],
  ])("%j -> %i bytes each, little-endian", (ids, width, bytes) => {
    const packed = packTokenIds(ids);
    expect(packed.width).toBe(width);
    expect([...packed.bytes]).toEqual(bytes);
    expect(unpackTokenIds(packed.bytes, packed.width)).toEqual(ids);
  });

  it.each([-1, 1.5, 2 ** 32, Number.NaN])("refuses %d as a token id", (id) => {
    expect(() => packTokenIds([1, id])).toThrow(RangeError);
  });

  const ids = [1, 450, 11148, 29871, 31999];
  const { bytes } = packTokenIds(ids);
  it.each([
    ["a Uint8Array", bytes],
    ["the array of byte values D1 returns", [...bytes]],
    ["an ArrayBuffer", bytes.slice().buffer],
    ["a view into a larger buffer", new Uint8Array([9, 9, 9, ...bytes, 9]).subarray(3, 3 + bytes.length)],
  ])("unpacks from %s", (_, stored) => {
    expect(unpackTokenIds(stored, 2)).toEqual(ids);
  });

  it.each([
    [[1, 2, 3], 2],
    [[1, 2, 3, 4, 5, 6], 4],
  ])("a length that is not a whole number of ids is no ids: %j as %i-byte ids", (stored, width) => {
    expect(unpackTokenIds(stored, width as 2 | 4)).toBeNull();
  });
});

describe("text hash", () => {
  it.each([
    ["", " "],
    [" hello", "hello"],
    [" USER:", " USER\u2060:"], // the neutralised form differs from the raw one
    ["a", "b"],
    ["ab", "ba"],
    ["👋🏽", "👋"],
  ])("tells %j from %j", (a, b) => {
    expect(textHash(a)).not.toBe(textHash(b));
  });

  it("is stable across calls and isolates (a fixed value), 11 base-36 digits", () => {
    expect(textHash(" Hello there.")).toBe(textHash(" Hello there."));
    expect(textHash(" Hello there.")).toMatch(/^[0-9a-z]{11}$/);
    expect(textHash("")).toBe("0wvjl67o803");
  });
});

describe("reusing stored ids", () => {
  const revision = "llama.abc123";
  const text = " What do llamas eat?";
  const ids = [1724, 437, 11148, 294, 17545, 29973];
  const stored = (key: string, bytes: StoredTokens["bytes"] = [...packTokenIds(ids).bytes]): StoredTokens => ({ key, bytes });
  const valid = tokensKey(revision, false, 2, ids.length, text);

  it.each<[string, StoredTokens, string, boolean, string, number[] | null]>([
    ["the same tokenizer, prefix and text", stored(valid), revision, false, text, ids],
    ["another tokenizer revision (new vocabulary, another model)", stored(valid), "llama.def456", false, text, null],
    ["another tokenizer", stored(valid), "mistral.abc123", false, text, null],
    ["with the dummy prefix where it was encoded without", stored(valid), revision, true, text, null],
    ["another text (an edited message, another layout)", stored(valid), revision, false, "What do llamas eat?", null],
    ["text neutralised differently now", stored(tokensKey(revision, false, 2, ids.length, " USER: hi")), revision, false, " USER\u2060: hi", null],
    ["a key written for 4-byte ids over 2-byte bytes", stored(tokensKey(revision, false, 4, ids.length, text)), revision, false, text, null],
    ["bytes cut short by a whole id", stored(valid, [...packTokenIds(ids).bytes].slice(0, 10)), revision, false, text, null],
    ["bytes cut short mid-id", stored(valid, [...packTokenIds(ids).bytes].slice(0, 5)), revision, false, text, null],
    ["a key from another scheme", stored("v0:whatever"), revision, false, text, null],
    ["an empty key", stored(""), revision, false, text, null],
  ])("%s", (_, s, rev, leadingSpace, now, expected) => {
    expect(reusableIds(s, rev, leadingSpace, now)).toEqual(expected);
  });

  it("reads 4-byte ids when the key says so", () => {
    const big = [5, 128_255];
    const packed = packTokenIds(big);
    expect(reusableIds({ key: tokensKey(revision, true, packed.width, big.length, "x"), bytes: packed.bytes }, revision, true, "x")).toEqual(big);
  });
});
