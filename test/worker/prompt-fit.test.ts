/**
 * fitToContext over every family: the cut arithmetic's premise, where the system prompt goes,
 * and truncate:false refusing instead of dropping.
 */
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../wire/openai.js";
import {
  fitToContext,
  promptRuntime,
  renderPromptText,
  renderPromptTokens,
  TEMPLATE_IDS,
  toChatConversation,
  InvalidConversation,
  type ChatConversation,
} from "../../workers/prompt/index.js";
import { encodePieces, tokenizerEncoder } from "../../workers/prompt/pieces.js";
import { prepareConversation, turnPieces } from "../../workers/prompt/render.js";

const user = (content: string): ChatMessage => ({ role: "user", content });
const assistant = (content: string): ChatMessage => ({ role: "assistant", content });

const history: ChatMessage[] = [
  user("What is the capital of France?"),
  assistant("The capital of France is Paris."),
  user(""),
  assistant(""),
  user("And of Peru? "),
  assistant(" Lima.\n"),
  user("Which one is higher?"),
];
const conversation: ChatConversation = { system: "Answer in one sentence.", messages: history };
const noSystem: ChatConversation = { system: "", messages: history };

describe("the cut premise: a kept suffix = head + its first message laid out as first + later messages as in the full layout", () => {
  const table = TEMPLATE_IDS.flatMap((template) => [conversation, noSystem].map((c) => ({ template, c, label: c.system === "" ? "empty system" : "system" })));
  it.each(table)("$template, $label", ({ template, c }) => {
    const rt = promptRuntime(template);
    const prepared = prepareConversation(rt.family, c);
    for (let start = 0; start < c.messages.length; start += 2) {
      const pieces = [...rt.family.head(prepared.system), ...turnPieces(rt.family, prepared, start, true)];
      for (let j = start + 1; j <= c.messages.length; j++) pieces.push(...turnPieces(rt.family, prepared, j, false));
      const assembled = encodePieces(rt.tokenizer, pieces, tokenizerEncoder(rt.tokenizer)).tokens;
      expect(assembled, `start ${start}`).toEqual(renderPromptTokens(rt, { system: c.system, messages: c.messages.slice(start) }));
    }
  });
});

describe("fitToContext with truncation", () => {
  it.each(TEMPLATE_IDS)("%s: drops the oldest turns, keeps the system prompt and the newest message, counts exactly", (template) => {
    const rt = promptRuntime(template);
    const keptFrom4 = renderPromptTokens(rt, { system: conversation.system, messages: history.slice(4) }).length;
    const result = fitToContext({ runtime: rt, conversation, contextLength: keptFrom4 + 10, maxTokens: 10, defaultMaxTokens: 100, truncate: true });
    if (!result.ok) throw new Error(result.message);
    expect(result.droppedMessages).toBe(4);
    expect(result.conversation).toEqual({ system: conversation.system, messages: history.slice(4) });
    expect(result.tokens).toEqual(renderPromptTokens(rt, result.conversation));
    expect(result.promptTokens).toBe(keptFrom4);
    expect(renderPromptText(rt, result.conversation)).toContain("Answer in one sentence.");
  });

  it("llama-2: the system block moves into the first kept [INST]", () => {
    const rt = promptRuntime("llama-2-chat");
    const kept = renderPromptTokens(rt, { system: conversation.system, messages: history.slice(6) }).length;
    const result = fitToContext({ runtime: rt, conversation, contextLength: kept + 5, maxTokens: 5, defaultMaxTokens: 100, truncate: true });
    if (!result.ok) throw new Error(result.message);
    expect(result.droppedMessages).toBe(6);
    expect(renderPromptText(rt, result.conversation)).toBe("[INST] <<SYS>>\nAnswer in one sentence.\n<</SYS>>\n\nWhich one is higher? [/INST]");
  });
});

describe("fitToContext cost", () => {
  it.each(TEMPLATE_IDS)("%s: never tokenizes history older than the first turn that no longer fits", (template) => {
    const base = promptRuntime(template);
    const seen: string[] = [];
    const runtime = { ...base, tokenizer: { ...base.tokenizer, encode: (text: string, o?: { leadingSpace?: boolean }) => (seen.push(text), base.tokenizer.encode(text, o)) } };
    const messages: ChatMessage[] = [];
    for (let i = 0; i < 400; i++) messages.push(user(`Old question ${i}`), assistant(`Old answer ${i}`));
    messages.push(user("New question"));
    const result = fitToContext({ runtime, conversation: { system: "S", messages }, contextLength: 300, maxTokens: 50, defaultMaxTokens: 50, truncate: true });
    if (!result.ok) throw new Error(result.message);
    const oldestKept = result.droppedMessages;
    expect(oldestKept).toBeGreaterThan(100);
    // The turn just before the cut may be looked at; nothing older is.
    expect(seen.some((t) => t.includes(`Old question ${oldestKept / 2 - 2}`))).toBe(false);
    expect(result.tokens).toEqual(renderPromptTokens(base, result.conversation));
  });
});

describe("fitToContext with truncate: false", () => {
  it.each(TEMPLATE_IDS)("%s: fits the whole conversation or refuses, never drops", (template) => {
    const rt = promptRuntime(template);
    const whole = renderPromptTokens(rt, conversation).length;
    const fits = fitToContext({ runtime: rt, conversation, contextLength: whole + 10, maxTokens: 10, defaultMaxTokens: 100, truncate: false });
    expect(fits).toMatchObject({ ok: true, droppedMessages: 0, promptTokens: whole, maxTokens: 10 });

    const tooLong = fitToContext({ runtime: rt, conversation, contextLength: whole + 9, maxTokens: 10, defaultMaxTokens: 100, truncate: false });
    expect(tooLong).toEqual({
      ok: false,
      code: "context_length_exceeded",
      promptTokens: whole,
      message:
        `This model's maximum context length is ${whole + 9} tokens. However, you requested ${whole + 10} tokens ` +
        `(${whole} in the messages, 10 in the completion). Please reduce the length of the messages or completion.`,
    });

    const capped = fitToContext({ runtime: rt, conversation, contextLength: whole + 3, maxTokens: null, defaultMaxTokens: 100, truncate: false });
    expect(capped).toMatchObject({ ok: true, droppedMessages: 0, maxTokens: 3 });

    const full = fitToContext({ runtime: rt, conversation, contextLength: whole, maxTokens: null, defaultMaxTokens: 100, truncate: false });
    expect(full).toEqual({
      ok: false,
      code: "context_length_exceeded",
      promptTokens: whole,
      message:
        `This model's maximum context length is ${whole} tokens. However, your messages resulted in ${whole} tokens, ` +
        "which leaves no room for a completion. Please reduce the length of the messages.",
    });
  });
});

describe("toChatConversation", () => {
  it("normalises OpenAI messages without naming a family", () => {
    expect(toChatConversation([{ role: "system", content: "s" }, user("a"), user("b")])).toEqual({ system: "s", messages: [user("a\n\nb")] });
    expect(() => toChatConversation([assistant("x"), user("y")])).toThrow(InvalidConversation);
    expect(() => toChatConversation([assistant("x"), user("y")])).toThrow("messages[0] is an assistant message, but a conversation starts with the user.");
  });
});
