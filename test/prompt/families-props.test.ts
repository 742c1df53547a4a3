/**
 * Property tests of every prompt family over random conversations (fast-check): renderings agree,
 * no text forges a turn, and fitting to a window cuts where brute force does (or, with
 * truncate:false, refuses instead of dropping).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../wire/openai.js";
import {
  fitToContext,
  promptRuntime,
  renderPromptPieces,
  renderPromptText,
  renderPromptTokenLayout,
  renderPromptTokens,
  TEMPLATE_IDS,
  type ChatConversation,
  type PromptRuntime,
} from "../../workers/prompt/index.js";

const RUNS = 80;

// Text that stresses every template: all families' markers, special-token text, whitespace runs,
// multi-byte characters (byte-fallback tokens), SentencePiece's space mark and a lone surrogate.
const fragment = fc.oneof(
  fc.constantFrom(
    "USER:", " ASSISTANT:", "\nUSER :", "[INST]", " [/INST]", "<<SYS>>", "<</SYS>>\n\n", "[inst]", "### Instruction:",
    "\n\n### Response:", "###Response :", "<|im_start|>", "<|im_end|>\n", "<|im_start|>user\n", "<|im_end|><|im_start|>",
    "</s>", "<s>", "</s><s>", " ", "  ", "\n", "\n\n", "\t", ":", "[", "]", "<<", ">>", "hello", "ü", "你好", "👋🏽", "\u2581", "\uD800",
    "USER\t:", "user:", "User:", "SUPERUSER:", "</s>USER:",
  ),
  fc.string({ unit: "grapheme", maxLength: 10 }),
  fc.string({ unit: "binary", maxLength: 5 }),
);
const anyText = fc.array(fragment, { maxLength: 7 }).map((parts) => parts.join(""));

// Ordinary text: words separated by single spaces or newlines, no leading or trailing whitespace.
const word = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9]{1,10}[.,!?;:]?$/),
  fc.constantFrom("Grüße", "你好", "👋", "naïve", "—", "(x)", "`code`", "3.14", "don't", "#", "##", "user:", "User:"),
);
const ordinaryText = fc
  .tuple(word, fc.array(fc.tuple(fc.constantFrom(" ", "\n", "\n\n"), word), { maxLength: 10 }))
  .map(([first, rest]) => first + rest.map(([sep, w]) => sep + w).join(""));

function conversationOf(text: fc.Arbitrary<string>, system: fc.Arbitrary<string | null>): fc.Arbitrary<ChatConversation> {
  const texts = fc.integer({ min: 0, max: 3 }).chain((turns) => fc.array(text, { minLength: 2 * turns + 1, maxLength: 2 * turns + 1 }));
  return fc.record({ system, texts }).map(({ system: s, texts }) => ({
    system: s,
    messages: texts.map((content, i): ChatMessage => ({ role: i % 2 === 0 ? "user" : "assistant", content })),
  }));
}
const anyConversation = conversationOf(anyText, fc.option(anyText, { nil: null }));
const ordinaryConversation = conversationOf(ordinaryText, fc.option(ordinaryText, { nil: null }));

function occurs(hay: readonly number[], needle: readonly number[]): boolean {
  for (let i = 0; i + needle.length <= hay.length; i++) if (needle.every((id, k) => hay[i + k] === id)) return true;
  return false;
}

/** The ids of a prompt, by segment between special ids, as the tokenizer encodes each segment whole. */
function wholeSegments(rt: PromptRuntime, c: ChatConversation): number[] {
  const { tokenizer } = rt;
  const ids: number[] = [];
  let text = "";
  let prefixed = true;
  const flush = (): void => {
    ids.push(...tokenizer.encode(text, { leadingSpace: prefixed }));
    text = "";
  };
  for (const piece of renderPromptPieces(rt, c)) {
    if (piece.kind === "text") {
      text += piece.text;
      continue;
    }
    flush();
    const id = tokenizer.specialIds[piece.token]!;
    ids.push(id);
    prefixed = tokenizer.dummyPrefixAfter.has(id);
  }
  flush();
  return ids;
}

describe.each(TEMPLATE_IDS)("%s", (template) => {
  const rt = promptRuntime(template);
  const { tokenizer, family } = rt;
  const specialIds = new Set(Object.values(tokenizer.specialIds));
  const markerIds = family.markers.flatMap((m) => [tokenizer.encode(m, { leadingSpace: false }), tokenizer.encode(m, { leadingSpace: true })]);

  it("decodes to exactly the text rendering, for any text", () => {
    fc.assert(
      fc.property(anyConversation, (c) => {
        expect(tokenizer.decode(renderPromptTokens(rt, c))).toBe(renderPromptText(rt, c));
      }),
      { numRuns: RUNS },
    );
  });

  it("for ordinary text, equals encoding each stretch between special ids as a whole", () => {
    fc.assert(
      fc.property(ordinaryConversation, (c) => {
        expect(renderPromptTokens(rt, c)).toEqual(wholeSegments(rt, c));
      }),
      { numRuns: RUNS },
    );
  });

  it("never forges a turn: special ids only where the template puts them, no marker inside system or message text", () => {
    fc.assert(
      fc.property(anyConversation, (c) => {
        const { tokens, spans } = renderPromptTokenLayout(rt, c);
        const placed = renderPromptPieces(rt, c).flatMap((p) => (p.kind === "special" ? [tokenizer.specialIds[p.token]!] : []));
        expect(tokens.filter((id) => specialIds.has(id))).toEqual(placed);
        for (const span of spans) {
          const inside = tokens.slice(span.start, span.end);
          expect(inside.some((id) => specialIds.has(id))).toBe(false);
          for (const marker of markerIds) expect(occurs(inside, marker), `${JSON.stringify(tokenizer.decode(marker))} in ${span.part}`).toBe(false);
        }
        // In the text rendering too, message and system text never show a marker. (Vicuna's
        // "USER:" is only a marker as a word of its own, so its text check is the table's.)
        if (template !== "vicuna_v1.1") {
          for (const text of [c.system ?? "", ...c.messages.map((m) => m.content)]) {
            const shown = family.neutralise(text);
            for (const marker of family.markers) expect(shown.includes(marker), `${marker} in ${JSON.stringify(shown)}`).toBe(false);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  /** The reference answer by brute force: render every cut and take the first that fits. */
  function bruteForceCut(c: ChatConversation, contextLength: number, target: number): number {
    for (let dropped = 0; dropped < c.messages.length - 1; dropped += 2) {
      if (renderPromptTokens(rt, { system: c.system, messages: c.messages.slice(dropped) }).length + target <= contextLength) return dropped;
    }
    return c.messages.length - 1;
  }

  const scenario = anyConversation.chain((conversation) =>
    fc
      .record({
        maxTokens: fc.option(fc.integer({ min: 1, max: 300 }), { nil: null }),
        defaultMaxTokens: fc.integer({ min: 1, max: 300 }),
        cutTurns: fc.nat({ max: (conversation.messages.length - 1) / 2 }),
        offset: fc.constantFrom(-1, 0, 1),
        randomLength: fc.option(fc.integer({ min: 1, max: 400 }), { nil: null }),
        truncate: fc.boolean(),
      })
      .map(({ maxTokens, defaultMaxTokens, cutTurns, offset, randomLength, truncate }) => {
        const cutLength = renderPromptTokens(rt, { system: conversation.system, messages: conversation.messages.slice(2 * cutTurns) }).length;
        const contextLength = randomLength ?? Math.max(1, cutLength + (maxTokens ?? defaultMaxTokens) + offset);
        return { runtime: rt, conversation, contextLength, maxTokens, defaultMaxTokens, truncate };
      }),
  );

  it("fits like brute force, keeps the system prompt and the newest message, and with truncate:false refuses instead of dropping", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const { conversation, contextLength, maxTokens, defaultMaxTokens, truncate } = input;
        const result = fitToContext(input);
        const target = maxTokens ?? defaultMaxTokens;
        const smallest = truncate ? conversation.messages.slice(-1) : conversation.messages;
        const minimal = renderPromptTokens(rt, { system: conversation.system, messages: smallest }).length;
        if (!result.ok) {
          expect(result.promptTokens).toBe(minimal);
          expect(minimal + (maxTokens ?? 1)).toBeGreaterThan(contextLength);
          expect(result.message).toMatch(new RegExp(`^This model's maximum context length is ${contextLength} tokens\\. However, `));
          return;
        }
        expect(result.droppedMessages).toBe(truncate ? bruteForceCut(conversation, contextLength, target) : 0);
        expect(result.conversation).toEqual({ system: conversation.system, messages: conversation.messages.slice(result.droppedMessages) });
        expect(result.tokens).toEqual(renderPromptTokens(rt, result.conversation));
        expect(result.promptTokens).toBe(result.tokens.length);
        expect(result.promptTokens + result.maxTokens).toBeLessThanOrEqual(contextLength);
        expect(result.maxTokens).toBe(maxTokens ?? Math.min(defaultMaxTokens, contextLength - result.promptTokens));
        // The system text is still in the prompt, and for llama-2 inside the first [INST].
        const system = conversation.system ?? family.defaultSystem;
        const { tokens, spans } = renderPromptTokenLayout(rt, result.conversation);
        if (system !== null && system !== "") {
          const systemSpan = spans.find((s) => s.part === "system");
          expect(systemSpan).toBeDefined();
          expect(tokenizer.decode(tokens.slice(systemSpan!.start, systemSpan!.end)).trim()).toBe(family.neutralise(system).trim());
          if (template === "llama-2-chat") expect(renderPromptText(rt, result.conversation).startsWith("[INST] <<SYS>>\n")).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
