import { describe, expect, it } from "vitest";
import { decodeTokens, encodeText, EOS_ID } from "../../workers/prompt/tokenizer.js";
import { renderChatPrompt } from "../../gpu-backend/sim/chat-template.js";
import { lastUserTurn, loremTokenIds, planReply, replyTokenIds, tokenDeltas } from "../../gpu-backend/sim/replies.js";

const ids = (text: string) => encodeText(text, { leadingSpace: false });

describe("planReply", () => {
  it.each([
    { name: "fits: ends with EOS", text: "Hello there", maxTokens: 50, stop: [], want: "Hello there", finish: "stop", eos: true },
    { name: "truncated by max_tokens", text: "one two three four five", maxTokens: 3, stop: [], want: "one two three", finish: "length", eos: false },
    { name: "exactly max_tokens long: no room for EOS", text: "one two", maxTokens: 2, stop: [], want: "one two", finish: "length", eos: false },
    { name: "stop string cuts before it", text: "Sure.\nUSER: hi", maxTokens: 50, stop: ["USER:"], want: "Sure.\n", finish: "stop", eos: false },
    { name: "earliest of several stops", text: "alpha beta gamma", maxTokens: 50, stop: ["gamma", "beta"], want: "alpha ", finish: "stop", eos: false },
    { name: "stop beyond max_tokens is never reached", text: "one two three four", maxTokens: 2, stop: ["four"], want: "one two", finish: "length", eos: false },
    { name: "stop spanning tokens", text: "abc</s>def", maxTokens: 50, stop: ["</s>"], want: "abc", finish: "stop", eos: false },
  ])("$name", ({ text, maxTokens, stop, want, finish, eos }) => {
    const plan = planReply({ tokenIds: ids(text), maxTokens, stop });
    expect(plan.text).toBe(want);
    expect(plan.deltas.join("")).toBe(want);
    expect(plan.deltas).toHaveLength(plan.tokenIds.length);
    expect(plan.finishReason).toBe(finish);
    expect(plan.tokenIds.at(-1) === EOS_ID).toBe(eos);
    expect(plan.tokenIds.length).toBeLessThanOrEqual(maxTokens);
  });

  it("reports the matched stop string as stop_reason", () => {
    expect(planReply({ tokenIds: ids("a b c"), maxTokens: 9, stop: ["b"] }).stopReason).toBe("b");
    expect(planReply({ tokenIds: ids("a b c"), maxTokens: 9 }).stopReason).toBeNull();
  });
});

describe("tokenDeltas (incremental decoding)", () => {
  it.each([
    { name: "ascii", text: "Hello, world!" },
    { name: "leading and double spaces", text: "  two  spaces\nnewline" },
    { name: "emoji via byte fallback", text: "ok 😀 fine 🦙" },
    { name: "CJK", text: "漢字とかな、한국어" },
    { name: "accents", text: "héllo wörld ça va" },
  ])("$name: deltas concatenate to the text and never split a character", ({ text }) => {
    const tokenIds = ids(text);
    const deltas = tokenDeltas(tokenIds);
    expect(deltas.join("")).toBe(text);
    for (const d of deltas) expect(d).not.toContain("\uFFFD");
  });

  it("holds back an incomplete UTF-8 sequence until it completes", () => {
    const tokenIds = ids("😀"); // byte-fallback: ▁? + <0xF0> <0x9F> <0x98> <0x80>
    const deltas = tokenDeltas(tokenIds);
    expect(deltas.filter((d) => d === "").length).toBeGreaterThan(0);
    expect(deltas.at(-1)).toBe("😀");
  });

  it("a reply truncated inside an emoji ends with U+FFFD, like a full decode", () => {
    const tokenIds = ids("a😀");
    const plan = planReply({ tokenIds, maxTokens: tokenIds.length - 1 });
    expect(plan.text.endsWith("\uFFFD")).toBe(true);
    expect(plan.deltas.join("")).toBe(plan.text);
  });
});

describe("reply modes", () => {
  const prompt = renderChatPrompt([
    { role: "user", content: "first question" },
    { role: "assistant", content: "first answer" },
    { role: "user", content: "second 😀 question" },
  ]);

  it.each([
    { prompt: "SYS USER: hi there ASSISTANT:", want: "hi there" },
    { prompt: "SYS USER: a ASSISTANT: b</s>USER: c d ASSISTANT:", want: "c d" },
    { prompt: "no turns here", want: null },
    { prompt: "SYS USER: unfinished", want: "unfinished" },
  ])("lastUserTurn($prompt)", ({ prompt: p, want }) => {
    expect(lastUserTurn(p)).toBe(want);
  });

  it("echo-prompt replies with exactly the prompt", () => {
    const plan = planReply({ tokenIds: replyTokenIds({ mode: "echo-prompt", source: { promptText: prompt }, maxTokens: 500, seed: 0 }), maxTokens: 500 });
    expect(plan.text).toBe(prompt);
  });

  it("echo replies with the last user turn (completions) or last user message (chat)", () => {
    const fromPrompt = replyTokenIds({ mode: "echo", source: { promptText: prompt }, maxTokens: 50, seed: 0 });
    expect(decodeTokens(fromPrompt)).toBe("second 😀 question");
    const fromChat = replyTokenIds({ mode: "echo", source: { promptText: prompt, lastUserMessage: "from chat" }, maxTokens: 50, seed: 0 });
    expect(planReply({ tokenIds: fromChat, maxTokens: 50 }).text).toBe("from chat");
  });

  it.each([1, 7, 64, 300])("lorem has exactly max_tokens=%i tokens and is deterministic", (maxTokens) => {
    const a = replyTokenIds({ mode: "lorem", source: { promptText: prompt }, maxTokens, seed: 3 });
    const b = replyTokenIds({ mode: "lorem", source: { promptText: prompt }, maxTokens, seed: 3 });
    expect(a).toEqual(b);
    const plan = planReply({ tokenIds: a, maxTokens });
    expect(plan.tokenIds).toHaveLength(maxTokens);
    expect(plan.finishReason).toBe("length");
    // The text re-tokenizes to the same number of tokens (plain words and periods).
    expect(encodeText(plan.text, { leadingSpace: false })).toHaveLength(maxTokens);
  });

  it("lorem differs by prompt and by seed", () => {
    const base = loremTokenIds({ seed: 1, count: 20 });
    expect(loremTokenIds({ seed: 2, count: 20 })).not.toEqual(base);
    const p1 = replyTokenIds({ mode: "lorem", source: { promptText: "a" }, maxTokens: 20, seed: 0 });
    const p2 = replyTokenIds({ mode: "lorem", source: { promptText: "b" }, maxTokens: 20, seed: 0 });
    expect(p1).not.toEqual(p2);
  });
});

describe("renderChatPrompt", () => {
  it.each([
    { messages: [{ role: "user" as const, content: "hi" }], want: /^A chat between .* questions\. USER: hi ASSISTANT:$/ },
    { messages: [{ role: "system" as const, content: "Be brief." }, { role: "user" as const, content: "hi" }], want: /^Be brief\. USER: hi ASSISTANT:$/ },
    {
      messages: [
        { role: "user" as const, content: "a" },
        { role: "assistant" as const, content: "b" },
        { role: "user" as const, content: "c" },
      ],
      want: / USER: a ASSISTANT: b<\/s>USER: c ASSISTANT:$/,
    },
  ])("renders %#", ({ messages, want }) => {
    expect(renderChatPrompt(messages)).toMatch(want);
  });
});
