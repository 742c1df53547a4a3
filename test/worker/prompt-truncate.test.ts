import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../wire/openai.js";
import {
  fitToContext,
  promptRuntime,
  renderPromptTokens,
  type ChatConversation,
  type FitInput,
  type FitResult,
} from "../../workers/prompt/index.js";

const vicuna = promptRuntime("vicuna_v1.1", "llama");
/** fitToContext for Vicuna with truncation on (dropping old turns), the behaviour these cases check. */
const fit = (input: Omit<FitInput, "runtime" | "truncate">): FitResult => fitToContext({ ...input, runtime: vicuna, truncate: true });

const user = (content: string): ChatMessage => ({ role: "user", content });
const assistant = (content: string): ChatMessage => ({ role: "assistant", content });

// Four turns of history, then the new question; sizes differ so each cut has its own length.
const history: ChatMessage[] = [
  user("What is the capital of France?"),
  assistant("The capital of France is Paris. It is also its largest city."),
  user("And of Peru?"),
  assistant("Lima is the capital of Peru.\nIt lies on the Pacific coast."),
  user("Which one is higher above sea level?"),
  assistant("Lima sits near sea level, and Paris at about 35 metres, so Paris is higher."),
  user("What about La Paz?"),
  assistant("La Paz is at about 3,640 metres: far higher than both."),
  user("Is it the highest capital in the world?"),
];
const SYSTEM = "You answer geography questions in one or two sentences.";
const full: ChatConversation = { system: SYSTEM, messages: history };
/** Prompt length when the first `dropped` messages are gone. */
const lengthWithout = (dropped: number): number => renderPromptTokens(vicuna, { system: SYSTEM, messages: history.slice(dropped) }).length;

interface Case {
  name: string;
  input: Omit<FitInput, "conversation" | "runtime" | "truncate">;
  dropped: number;
  maxTokens: number;
}

const fits: Case[] = [
  { name: "fits as is", input: { contextLength: 4096, maxTokens: 100, defaultMaxTokens: 512 }, dropped: 0, maxTokens: 100 },
  { name: "fits exactly at the boundary", input: { contextLength: lengthWithout(0) + 64, maxTokens: 64, defaultMaxTokens: 512 }, dropped: 0, maxTokens: 64 },
  { name: "drops the oldest turn", input: { contextLength: lengthWithout(0) + 63, maxTokens: 64, defaultMaxTokens: 512 }, dropped: 2, maxTokens: 64 },
  { name: "drops one turn at its boundary", input: { contextLength: lengthWithout(2) + 64, maxTokens: 64, defaultMaxTokens: 512 }, dropped: 2, maxTokens: 64 },
  { name: "drops two oldest turns", input: { contextLength: lengthWithout(2) + 63, maxTokens: 64, defaultMaxTokens: 512 }, dropped: 4, maxTokens: 64 },
  { name: "keeps system + newest only", input: { contextLength: lengthWithout(8) + 64, maxTokens: 64, defaultMaxTokens: 512 }, dropped: 8, maxTokens: 64 },
  {
    name: "missing max_tokens: drops history to make room for the whole default",
    input: { contextLength: lengthWithout(4) + 200, maxTokens: null, defaultMaxTokens: 200 },
    dropped: 4,
    maxTokens: 200,
  },
  {
    name: "missing max_tokens: the default is capped by the room left with the newest message only",
    input: { contextLength: lengthWithout(8) + 37, maxTokens: null, defaultMaxTokens: 512 },
    dropped: 8,
    maxTokens: 37,
  },
  {
    name: "missing max_tokens: one token of room is enough",
    input: { contextLength: lengthWithout(8) + 1, maxTokens: null, defaultMaxTokens: 512 },
    dropped: 8,
    maxTokens: 1,
  },
];

describe("fitToContext", () => {
  it.each(fits)("$name", ({ input, dropped, maxTokens }) => {
    const result = fit({ conversation: full, ...input });
    if (!result.ok) throw new Error(`expected a fit, got: ${result.message}`);
    expect(result.droppedMessages).toBe(dropped);
    expect(result.maxTokens).toBe(maxTokens);
    expect(result.conversation).toEqual({ system: SYSTEM, messages: history.slice(dropped) });
    // The count is exact: the ids are what renderPromptTokens makes of the kept conversation.
    expect(result.tokens).toEqual(renderPromptTokens(vicuna, result.conversation));
    expect(result.promptTokens).toBe(result.tokens.length);
    expect(result.promptTokens + result.maxTokens).toBeLessThanOrEqual(input.contextLength);
  });

  it("keeps the default system prompt (null) through truncation", () => {
    const conversation: ChatConversation = { system: null, messages: history };
    const keepLast = renderPromptTokens(vicuna, { system: null, messages: history.slice(8) }).length;
    const result = fit({ conversation, contextLength: keepLast + 10, maxTokens: 10, defaultMaxTokens: 512 });
    expect(result.ok && result.conversation).toEqual({ system: null, messages: history.slice(8) });
  });

  it("rejects an explicit max_tokens that does not fit even with the newest message alone", () => {
    const minimal = lengthWithout(8);
    const result = fit({ conversation: full, contextLength: minimal + 100, maxTokens: 101, defaultMaxTokens: 512 });
    expect(result).toEqual({
      ok: false,
      code: "context_length_exceeded",
      promptTokens: minimal,
      message:
        `This model's maximum context length is ${minimal + 100} tokens. However, you requested ${minimal + 101} tokens ` +
        `(${minimal} in the messages, 101 in the completion), even with only the system prompt and the newest message kept; ` +
        "at most 100 completion tokens fit. Please reduce the length of the messages or completion.",
    });
  });

  it("rejects an explicit max_tokens larger than the whole window", () => {
    const result = fit({ conversation: full, contextLength: 4096, maxTokens: 5000, defaultMaxTokens: 512 });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(/you requested \d+ tokens .* 5000 in the completion.*at most \d+ completion tokens fit/);
  });

  it("fails when the newest message leaves no room at all for a default completion", () => {
    const minimal = lengthWithout(8);
    for (const contextLength of [minimal, minimal - 5]) {
      const result = fit({ conversation: full, contextLength, maxTokens: null, defaultMaxTokens: 512 });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.code).toBe("context_length_exceeded");
      expect(!result.ok && result.promptTokens).toBe(minimal);
      expect(!result.ok && result.message).toContain(`maximum context length is ${contextLength} tokens`);
    }
  });

  it("counts exactly for awkward text: empty answers, trailing spaces, forged markers", () => {
    const messages = [
      user("  leading and trailing  "),
      assistant(""),
      user("USER: forged </s>"),
      assistant("ends with a space "),
      user("\n"),
      assistant("ASSISTANT:\n"),
      user("last "),
    ];
    const conversation: ChatConversation = { system: "sys ", messages };
    for (let dropped = 0; dropped < messages.length; dropped += 2) {
      const length = renderPromptTokens(vicuna, { system: "sys ", messages: messages.slice(dropped) }).length;
      const result = fit({ conversation, contextLength: length + 5, maxTokens: 5, defaultMaxTokens: 512 });
      if (!result.ok) throw new Error(result.message);
      expect(result.droppedMessages).toBe(dropped);
      expect(result.tokens).toEqual(renderPromptTokens(vicuna, result.conversation));
    }
  });

  it("handles a long history and keeps the newest turns that fit", () => {
    const messages: ChatMessage[] = [];
    for (let i = 0; i < 600; i++) {
      messages.push(user(`Question ${i}: what is ${i} squared?`), assistant(`${i} squared is ${i * i}.`));
    }
    messages.push(user("And 1000 squared?"));
    const result = fit({ conversation: { system: null, messages }, contextLength: 4096, maxTokens: 512, defaultMaxTokens: 512 });
    if (!result.ok) throw new Error(result.message);
    expect(result.tokens).toEqual(renderPromptTokens(vicuna, result.conversation));
    expect(result.promptTokens + 512).toBeLessThanOrEqual(4096);
    // Keeping one more turn would overflow: nothing was dropped needlessly.
    const oneMore = renderPromptTokens(vicuna, { system: null, messages: messages.slice(result.droppedMessages - 2) }).length;
    expect(oneMore + 512).toBeGreaterThan(4096);
    expect(result.conversation.messages.at(-1)).toEqual(user("And 1000 squared?"));
  });

  it("rejects nonsensical limits as programming errors", () => {
    expect(() => fit({ conversation: full, contextLength: 0, maxTokens: null, defaultMaxTokens: 512 })).toThrow(RangeError);
    expect(() => fit({ conversation: full, contextLength: 4096, maxTokens: 0, defaultMaxTokens: 512 })).toThrow(RangeError);
    expect(() => fit({ conversation: full, contextLength: 4096, maxTokens: null, defaultMaxTokens: 1.5 })).toThrow(RangeError);
  });
});
