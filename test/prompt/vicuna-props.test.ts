/**
 * Property tests of the prompt layer over random conversations (fast-check). The table tests
 * run inside workerd (test/worker/prompt-*.test.ts); these are pure and run in Node.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../wire/openai.js";
import { BOS_ID, decodeTokens, encodeText, EOS_ID } from "../../workers/prompt/tokenizer.js";
import { fitToContext } from "../../workers/prompt/truncate.js";
import {
  renderVicunaText,
  renderVicunaTokenLayout,
  renderVicunaTokens,
  VICUNA_V11_SYSTEM,
  type VicunaConversation,
} from "../../workers/prompt/vicuna.js";

const RUNS = 150;

// Pieces of text that stress the template: role markers, special-token text, whitespace runs,
// multi-byte characters (byte-fallback tokens), and a lone surrogate.
const fragment = fc.oneof(
  fc.constantFrom(
    "USER:", "ASSISTANT:", " USER:", "\nASSISTANT :", "USER\t:", "user:", "User:", "SUPERUSER:",
    "</s>", "<s>", "</s>USER:", " ", "  ", "\n", "\n\n", "\t", ":", "hello", "world", "ü", "你好", "👋🏽", "\uD800",
  ),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 6 }),
);
const anyText = fc.array(fragment, { maxLength: 8 }).map((parts) => parts.join(""));

// Ordinary text: words of letters, digits, punctuation and non-ASCII, separated by single spaces
// or newlines, with no leading or trailing whitespace.
const word = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9]{1,10}[.,!?;:]?$/),
  fc.constantFrom("Grüße", "你好", "👋", "naïve", "—", "(x)", "`code`", "3.14", "USER:", "don't"),
);
const ordinaryText = fc
  .tuple(word, fc.array(fc.tuple(fc.constantFrom(" ", "\n", "\n\n"), word), { maxLength: 12 }))
  .map(([first, rest]) => first + rest.map(([sep, w]) => sep + w).join(""));

/** A valid VicunaConversation: 1..4 turns, alternating, ending with the user. */
function conversationOf(text: fc.Arbitrary<string>, system: fc.Arbitrary<string | null>): fc.Arbitrary<VicunaConversation> {
  const texts = fc.integer({ min: 0, max: 3 }).chain((turns) => fc.array(text, { minLength: 2 * turns + 1, maxLength: 2 * turns + 1 }));
  return fc
    .record({ system, texts })
    .map(({ system: s, texts }) => ({
      system: s,
      messages: texts.map((content, i): ChatMessage => ({ role: i % 2 === 0 ? "user" : "assistant", content })),
    }));
}

const anyConversation = conversationOf(anyText, fc.option(anyText, { nil: null }));
const ordinaryConversation = conversationOf(ordinaryText, fc.option(ordinaryText, { nil: null }));

function occurrences(hay: readonly number[], needle: readonly number[]): number {
  let found = 0;
  for (let i = 0; i + needle.length <= hay.length; i++) {
    if (needle.every((id, k) => hay[i + k] === id)) found++;
  }
  return found;
}
const USER_MARK = encodeText(" USER:", { leadingSpace: false });
const ASSISTANT_MARK = encodeText(" ASSISTANT:", { leadingSpace: false });

describe("renderVicunaTokens properties", () => {
  it("decodes to exactly the text rendering, for any message text", () => {
    fc.assert(
      fc.property(anyConversation, (c) => {
        expect(decodeTokens(renderVicunaTokens(c))).toBe(renderVicunaText(c));
      }),
      { numRuns: RUNS },
    );
  });

  it("for ordinary messages, equals tokenizing each EOS-delimited segment of the text as a whole", () => {
    fc.assert(
      fc.property(ordinaryConversation, (c) => {
        const segments = renderVicunaText(c).split("</s>");
        const expected = [BOS_ID, ...segments.flatMap((s, i) => [...(i > 0 ? [EOS_ID] : []), ...encodeText(s, { leadingSpace: i === 0 })])];
        expect(renderVicunaTokens(c)).toEqual(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it("has EOS only at real turn ends and role-marker ids only at real turns", () => {
    fc.assert(
      fc.property(anyConversation, (c) => {
        const { tokens, messageSpans } = renderVicunaTokenLayout(c);
        const answered = c.messages.flatMap((m, i) => (m.role === "assistant" && m.content !== "" ? [i] : []));
        const eosAt = tokens.flatMap((id, i) => (id === EOS_ID ? [i] : []));
        expect(eosAt).toEqual(answered.map((i) => messageSpans.find((s) => s.message === i)!.end));
        expect(tokens.filter((id) => id === BOS_ID)).toHaveLength(1);
        for (const span of messageSpans) {
          const inside = tokens.slice(span.start, span.end);
          expect(occurrences(inside, USER_MARK)).toBe(0);
          expect(occurrences(inside, ASSISTANT_MARK)).toBe(0);
        }
        // " ASSISTANT:" follows every non-empty user message (the last one opens the answer).
        const spokenUsers = c.messages.filter((m) => m.role === "user" && m.content !== "").length;
        expect(occurrences(tokens, ASSISTANT_MARK)).toBe(spokenUsers);
      }),
      { numRuns: RUNS },
    );
  });

  it("keeps the default system prompt byte-exact at the start", () => {
    fc.assert(
      fc.property(conversationOf(anyText, fc.constant(null)), (c) => {
        expect(renderVicunaText(c).startsWith(`${VICUNA_V11_SYSTEM} USER:`)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});

describe("fitToContext properties", () => {
  /** The reference answer by brute force: render every cut and take the first that fits. */
  function bruteForceCut(c: VicunaConversation, contextLength: number, target: number): number {
    for (let dropped = 0; dropped < c.messages.length - 1; dropped += 2) {
      if (renderVicunaTokens({ system: c.system, messages: c.messages.slice(dropped) }).length + target <= contextLength) return dropped;
    }
    return c.messages.length - 1;
  }

  // Context lengths either random or placed exactly on (or one below) the boundary of some cut.
  const scenario = anyConversation.chain((conversation) =>
    fc
      .record({
        maxTokens: fc.option(fc.integer({ min: 1, max: 300 }), { nil: null }),
        defaultMaxTokens: fc.integer({ min: 1, max: 300 }),
        cutTurns: fc.nat({ max: (conversation.messages.length - 1) / 2 }),
        offset: fc.constantFrom(-1, 0, 1),
        randomLength: fc.option(fc.integer({ min: 1, max: 400 }), { nil: null }),
      })
      .map(({ maxTokens, defaultMaxTokens, cutTurns, offset, randomLength }) => {
        const cutLength = renderVicunaTokens({ system: conversation.system, messages: conversation.messages.slice(2 * cutTurns) }).length;
        const contextLength = randomLength ?? Math.max(1, cutLength + (maxTokens ?? defaultMaxTokens) + offset);
        return { conversation, contextLength, maxTokens, defaultMaxTokens };
      }),
  );

  it("returns the exact ids of the kept conversation, never overflows, and cuts where brute force does", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const { conversation, contextLength, maxTokens, defaultMaxTokens } = input;
        const result = fitToContext(input);
        const target = maxTokens ?? defaultMaxTokens;
        const newestOnly = { system: conversation.system, messages: conversation.messages.slice(-1) };
        const minimal = renderVicunaTokens(newestOnly).length;
        if (!result.ok) {
          expect(result.promptTokens).toBe(minimal);
          expect(minimal + (maxTokens ?? 1)).toBeGreaterThan(contextLength);
          return;
        }
        expect(result.droppedMessages).toBe(bruteForceCut(conversation, contextLength, target));
        expect(result.tokens).toEqual(renderVicunaTokens(result.conversation));
        expect(result.promptTokens).toBe(result.tokens.length);
        expect(result.promptTokens + result.maxTokens).toBeLessThanOrEqual(contextLength);
        expect(result.conversation).toEqual({ system: conversation.system, messages: conversation.messages.slice(result.droppedMessages) });
        expect(result.maxTokens).toBe(maxTokens ?? Math.min(defaultMaxTokens, contextLength - result.promptTokens));
      }),
      { numRuns: RUNS },
    );
  });
});
