import { describe, expect, it } from "vitest";
import { countTokens, encodeContinuation, getTokenizer, promptRuntime, TOKENIZER_IDS } from "../../workers/prompt/index.js";
import { BOS_ID, decodeTokens, encodeText, EOS_ID } from "../../workers/prompt/tokenizer.js";

describe("tokenizers", () => {
  const table = [
    { id: "llama", bos: 1, eos: 2, special: { "<s>": 1, "</s>": 2 } },
    { id: "mistral", bos: 1, eos: 2, special: { "<s>": 1, "</s>": 2, "<|im_end|>": 32000, "<|im_start|>": 32001 } },
  ] as const;
  it.each(table)("$id has BOS $bos, EOS $eos and its special ids", ({ id, bos, eos, special }) => {
    const t = getTokenizer(id);
    expect(TOKENIZER_IDS).toContain(id);
    expect([t.id, t.bosId, t.eosId]).toEqual([id, bos, eos]);
    expect(t.specialIds).toEqual(special);
  });

  it.each(TOKENIZER_IDS)("%s encodes special-token text as plain characters and decodes it back", (id) => {
    const t = getTokenizer(id);
    const specials = new Set(Object.values(t.specialIds));
    const text = "a</s><s><|im_start|>user\n<|im_end|>";
    const ids = t.encode(text);
    expect(ids.some((i) => specials.has(i))).toBe(false);
    expect(t.decode([t.bosId, ...ids])).toBe(text);
  });

  it.each(TOKENIZER_IDS)("%s returns fresh arrays from its cache", (id) => {
    const t = getTokenizer(id);
    const first = t.encode("cached text");
    first.push(-1);
    expect(t.encode("cached text")).not.toContain(-1);
  });

  it("decode writes special ids as their text and drops the dummy prefix where the tokenizer adds one", () => {
    const llama = getTokenizer("llama");
    // After EOS no prefix (Vicuna), after a mid-prompt BOS a prefix (Llama-2 turns).
    expect(llama.decode([1, ...llama.encode("a"), 2, ...llama.encode("b", { leadingSpace: false }), 1, ...llama.encode("c")])).toBe("a</s>b<s>c");
    const mistral = getTokenizer("mistral");
    expect(mistral.decode([1, 32001, ...mistral.encode("user\n"), 32000, ...mistral.encode("\n")])).toBe("<|im_start|>user\n<|im_end|>\n");
    // Text that was not prefixed keeps its first character.
    expect(llama.decode(llama.encode("xyz", { leadingSpace: false }))).toBe("xyz");
  });

  it("the historical tokenizer.ts names are the llama tokenizer", () => {
    const llama = getTokenizer("llama");
    expect([BOS_ID, EOS_ID]).toEqual([llama.bosId, llama.eosId]);
    expect(encodeText("Hello world")).toEqual(llama.encode("Hello world"));
    expect(decodeTokens([BOS_ID, ...encodeText("Hello"), EOS_ID])).toBe("Hello</s>");
  });

  it("continuations are encoded without the dummy prefix, with the family's tokenizer", () => {
    const rt = promptRuntime("chatml");
    expect(encodeContinuation(rt, " Hello")).toEqual(getTokenizer("mistral").encode(" Hello", { leadingSpace: false }));
    expect(countTokens(rt, " Hello")).toBe(encodeContinuation(rt, " Hello").length);
  });
});
