import { describe, expect, it } from "vitest";
import { DEFAULT_PREFIX_BLOCKS, PREFIX_BLOCK_TOKENS, prefixHash, promptRuntime, renderPromptTokens } from "../../workers/prompt/index.js";

const vicuna = promptRuntime("vicuna_v1.1", "llama");

const range = (from: number, length: number): number[] => Array.from({ length }, (_, i) => from + i);

describe("prefixHash", () => {
  it("is a 16-hex-digit value that stays the same across isolates and deploys", () => {
    // Pinned: routing state is shared between isolates, so the value must not drift.
    expect(prefixHash(range(1, 64))).toBe(prefixHash(range(1, 64)));
    expect(prefixHash(range(1, 16), 1)).toMatch(/^[0-9a-f]{16}$/);
    expect(prefixHash(range(1, 16), 1)).toBe(PINNED_ONE_BLOCK);
  });

  const cases: Array<{ name: string; a: number[]; b: number[]; blocks?: number; same: boolean }> = [
    { name: "prompts differing only after the hashed blocks", a: [...range(1, 64), 7], b: [...range(1, 64), 8, 9], same: true },
    { name: "prompts differing in the last hashed token", a: [...range(1, 63), 7], b: [...range(1, 63), 8], same: false },
    { name: "prompts differing in the first token", a: [9, ...range(2, 63)], b: range(1, 64), same: false },
    { name: "a trailing partial block is ignored", a: range(1, 40), b: [...range(1, 32), 99, 98], same: true },
    { name: "one block vs two blocks of the same prompt", a: range(1, 16), b: range(1, 32), same: false },
    { name: "blocks = 1 looks at the first 16 tokens only", a: [...range(1, 16), 5], b: [...range(1, 16), 6], blocks: 1, same: true },
    { name: "blocks = 3 sees a difference in token 40", a: range(1, 48), b: [...range(1, 39), 0, ...range(41, 8)], blocks: 3, same: false },
  ];
  it.each(cases)("$name", ({ a, b, blocks, same }) => {
    expect(prefixHash(a, blocks) === prefixHash(b, blocks)).toBe(same);
  });

  it("is empty when the prompt has no full block (nothing vLLM could reuse)", () => {
    expect(prefixHash([])).toBe("");
    expect(prefixHash(range(1, PREFIX_BLOCK_TOKENS - 1))).toBe("");
    expect(prefixHash(range(1, 64), 0)).toBe("");
  });

  it("groups requests by system prompt with 2 blocks and tells conversations apart by default", () => {
    const system = 
      "You are Altiplano's support bot. Answer questions about the product politely and concisely, " +
      "in the customer's language, and link to the documentation when it helps.";
    const a = renderPromptTokens(vicuna, { system, messages: [{ role: "user", content: "How do I reset my password if I no longer have access to my email address?" }] });
    const b = renderPromptTokens(vicuna, { system, messages: [{ role: "user", content: "Where can I see my invoices and change the billing address on them?" }] });
    expect(a.length).toBeGreaterThan(DEFAULT_PREFIX_BLOCKS * PREFIX_BLOCK_TOKENS);
    expect(prefixHash(a, 2)).toBe(prefixHash(b, 2));
    expect(prefixHash(a)).not.toBe(prefixHash(b));
  });

  it("rejects a negative block count", () => {
    expect(() => prefixHash(range(1, 64), -1)).toThrow(RangeError);
  });
});

const PINNED_ONE_BLOCK = "e9a3c91bbe8a7415";
