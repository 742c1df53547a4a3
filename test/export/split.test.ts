import { describe, expect, it } from "vitest";
import type { ExportPair, SegmentMessage } from "../../export/conversation.js";
import { poolTokenCounter, providerTokenCounter, segmentMessages, splitPairs, tokenCounterFor, trainingPieces, type CountTokens } from "../../export/split.js";
import { encodePieces, tokenizerEncoder } from "../../workers/prompt/pieces.js";
import { VICUNA_V11_DEFAULT_SYSTEM } from "../../workers/prompt/families/vicuna.js";
import { getTokenizer, promptRuntime, renderPromptTokens, TEMPLATE_IDS } from "../../workers/prompt/index.js";

const pair = (user: string, assistant: string): ExportPair => ({ user, assistant, feedback: { up: 0, down: 0 } });

// A counter that is easy to reason about: 1 per message plus 1 per character.
const charCounter: CountTokens = (messages) => messages.reduce((n, m) => n + 1 + m.content.length, 0);

describe("splitPairs (character counter)", () => {
  // Each pair is "u" + n x's: cost 1 + 1 + 1 + n = n + 3 with the counter above.
  const p = (n: number, tag: string): ExportPair => pair(tag, "x".repeat(n));
  const cases: Array<{ name: string; sizes: number[]; max: number; system?: string; segments: string[][]; tooLong: number }> = [
    { name: "nothing", sizes: [], max: 10, segments: [], tooLong: 0 },
    { name: "all fit in one", sizes: [1, 1, 1], max: 100, segments: [["a", "b", "c"]], tooLong: 0 },
    { name: "exactly at the limit", sizes: [2, 2], max: 10, segments: [["a", "b"]], tooLong: 0 },
    { name: "one over the limit splits", sizes: [2, 3], max: 10, segments: [["a"], ["b"]], tooLong: 0 },
    { name: "greedy in order", sizes: [1, 1, 5, 1, 1, 1], max: 12, segments: [["a", "b"], ["c", "d"], ["e", "f"]], tooLong: 0 },
    { name: "oversize pair dropped, neighbours separate", sizes: [1, 1, 50, 1, 1], max: 12, segments: [["a", "b"], ["d", "e"]], tooLong: 1 },
    { name: "oversize first and last", sizes: [50, 1, 50], max: 12, segments: [["b"]], tooLong: 2 },
    { name: "all oversize", sizes: [50, 60], max: 12, segments: [], tooLong: 2 },
    { name: "system counts in every segment", sizes: [2, 2, 2], max: 14, system: "sys", segments: [["a", "b"], ["c"]], tooLong: 0 },
  ];
  it.each(cases)("$name", ({ sizes, max, system, segments, tooLong }) => {
    const pairs = sizes.map((n, i) => p(n, String.fromCharCode(97 + i)));
    const result = splitPairs(pairs, { maxTokens: max, countTokens: charCounter, system: system ?? null });
    expect(result.segments.map((s) => s.map((x) => x.user))).toEqual(segments);
    expect(result.droppedTooLong).toBe(tooLong);
    result.segments.forEach((s, i) => {
      expect(result.tokens[i]).toBe(charCounter(segmentMessages(system ?? null, s)));
      expect(result.tokens[i]).toBeLessThanOrEqual(max);
    });
  });
});

// Deterministic pseudo-text: words drawn by a linear congruential generator.
function pseudoText(seed: number, words: number): string {
  const vocab = ["llama", "alpaca", "the", "of", "model", "tokens", "window", "training", "data", "is", "and", "a", "Vicuna", "GPU", "42", "naïve", "code:", "`x`", "—", "你好"];
  let state = seed;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    out.push(vocab[state % vocab.length]!);
    if (i % 17 === 16) out.push(".\n");
  }
  return out.join(" ");
}

describe("splitPairs with the real vicuna_v1.1 counter", () => {
  const count = tokenCounterFor({ id: "vicuna-13b-v1.5", template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 512 });

  it("splits a 40-turn conversation into segments of at most 512 tokens, keeping every pair once, in order", () => {
    const pairs = Array.from({ length: 40 }, (_, i) => pair(`Q${i}: ${pseudoText(i + 1, 5 + ((i * 7) % 30))}`, `A${i}: ${pseudoText(i + 100, 20 + ((i * 37) % 140))}`));
    const result = splitPairs(pairs, { maxTokens: 512, countTokens: count, system: null });
    expect(result.droppedTooLong).toBe(0);
    expect(result.segments.length).toBeGreaterThan(3);
    for (const segment of result.segments) expect(count(segmentMessages(null, segment))).toBeLessThanOrEqual(512);
    expect(result.segments.flat()).toEqual(pairs);
    // Greedy: the next segment's first pair would not have fitted in the one before.
    for (let i = 1; i < result.segments.length; i++) {
      expect(count(segmentMessages(null, [...result.segments[i - 1]!, result.segments[i]![0]!]))).toBeGreaterThan(512);
    }
  });

  it("drops a pair that alone exceeds the window and keeps the rest in order", () => {
    const pairs = Array.from({ length: 10 }, (_, i) => pair(`Q${i}`, pseudoText(i + 7, 60)));
    pairs[4] = pair("Write a long essay.", pseudoText(3, 900));
    const result = splitPairs(pairs, { maxTokens: 512, countTokens: count, system: "Be brief." });
    expect(result.droppedTooLong).toBe(1);
    expect(result.segments.flat()).toEqual(pairs.filter((_, i) => i !== 4));
    // Pair 3 and pair 5 are never in the same segment.
    expect(result.segments.some((s) => s.includes(pairs[3]!) && s.includes(pairs[5]!))).toBe(false);
  });
});

describe("pool token counter", () => {
  const rt = promptRuntime("vicuna_v1.1");
  const tokenizer = getTokenizer("llama");
  const messages: SegmentMessage[] = [
    { role: "user", content: "Hello there" },
    { role: "assistant", content: "Hi! How can I help?" },
    { role: "user", content: "Name a camelid." },
    { role: "assistant", content: "The llama." },
  ];

  it("counts the ids of FastChat's training rendering, final answer and EOS included", () => {
    // FastChat vicuna_v1.1 get_prompt() with the final answer filled in; "</s>" is the EOS id.
    const text = `${VICUNA_V11_DEFAULT_SYSTEM} USER: Hello there ASSISTANT: Hi! How can I help?</s>USER: Name a camelid. ASSISTANT: The llama.</s>`;
    const [first = "", second = ""] = text.split("</s>");
    const expected = [
      tokenizer.bosId,
      ...tokenizer.encode(first, { leadingSpace: true }),
      tokenizer.eosId,
      ...tokenizer.encode(second, { leadingSpace: false }),
      tokenizer.eosId,
    ];
    const ids = encodePieces(rt.tokenizer, trainingPieces(rt, messages), tokenizerEncoder(rt.tokenizer)).tokens;
    expect(ids).toEqual(expected);
    expect(poolTokenCounter(rt)(messages)).toBe(expected.length);
    expect(tokenizer.decode(ids)).toBe(text);
  });

  it("an explicit system prompt replaces the default", () => {
    const withSystem: SegmentMessage[] = [{ role: "system", content: "Be brief." }, ...messages];
    const text = "Be brief. USER: Hello there ASSISTANT: Hi! How can I help?</s>USER: Name a camelid. ASSISTANT: The llama.</s>";
    const ids = encodePieces(rt.tokenizer, trainingPieces(rt, withSystem), tokenizerEncoder(rt.tokenizer)).tokens;
    expect(tokenizer.decode(ids)).toBe(text);
    expect(poolTokenCounter(rt)(withSystem)).toBe(ids.length);
  });

  it.each(TEMPLATE_IDS)("%s: the serving prompt for the last question is a prefix, the answer adds its tokens and turn end", (template) => {
    const runtime = promptRuntime(template);
    const system = "You are terse.";
    const ids = encodePieces(runtime.tokenizer, trainingPieces(runtime, [{ role: "system", content: system }, ...messages]), tokenizerEncoder(runtime.tokenizer)).tokens;
    const prompt = renderPromptTokens(runtime, { system, messages: messages.slice(0, -1).map((m) => ({ role: m.role, content: m.content })) });
    expect(ids.slice(0, prompt.length)).toEqual(prompt);
    const tail = ids.slice(prompt.length);
    expect(tail.length).toBeGreaterThan(runtime.tokenizer.encode("The llama.", { leadingSpace: false }).length);
    expect(tail).toContain(template === "chatml" ? runtime.tokenizer.specialIds["<|im_end|>"] : runtime.tokenizer.eosId);
  });
});

describe("provider token counter", () => {
  const messages: SegmentMessage[] = [
    { role: "system", content: "12345678" },
    { role: "user", content: "abc" },
    { role: "assistant", content: "" },
  ];
  it("estimates 4 characters a token plus 4 per message without a tokenizer", () => {
    expect(providerTokenCounter(undefined)(messages)).toBe(2 + 4 + (1 + 4) + (0 + 4));
  });
  it("uses the entry's tokenizer when it names one", () => {
    const llama = getTokenizer("llama");
    const expected = messages.reduce((n, m) => n + llama.encode(m.content).length + 4, 0);
    const count = tokenCounterFor({ id: "gpt-4o", provider: "openai-compatible", baseUrl: "https://api.openai.com/v1", apiKeySecret: "OPENAI_API_KEY", contextLength: 128000, defaultMaxTokens: 1024, tokenizer: "llama" });
    expect(count(messages)).toBe(expected);
  });
});
