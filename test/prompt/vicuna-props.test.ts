/**
 * Vicuna-only property tests of the prompt layer over random conversations (fast-check). The
 * properties every family shares (text and ids agree, no forged turn, fitting like brute force)
 * run for Vicuna in families-props.test.ts; the table tests run inside workerd
 * (test/worker/prompt-*.test.ts); these are pure and run in Node.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../wire/openai.js";
import {
  getPromptFamily,
  promptRuntime,
  renderPromptText,
  renderPromptTokenLayout,
  type ChatConversation,
} from "../../workers/prompt/index.js";

const vicuna = promptRuntime("vicuna_v1.1", "llama");
const { tokenizer: llama } = vicuna;
const VICUNA_V11_SYSTEM = getPromptFamily("vicuna_v1.1").defaultSystem!;

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

/** A valid conversation: 1..4 turns, alternating, ending with the user. */
function conversationOf(text: fc.Arbitrary<string>, system: fc.Arbitrary<string | null>): fc.Arbitrary<ChatConversation> {
  const texts = fc.integer({ min: 0, max: 3 }).chain((turns) => fc.array(text, { minLength: 2 * turns + 1, maxLength: 2 * turns + 1 }));
  return fc
    .record({ system, texts })
    .map(({ system: s, texts }) => ({
      system: s,
      messages: texts.map((content, i): ChatMessage => ({ role: i % 2 === 0 ? "user" : "assistant", content })),
    }));
}

const anyConversation = conversationOf(anyText, fc.option(anyText, { nil: null }));

function occurrences(hay: readonly number[], needle: readonly number[]): number {
  let found = 0;
  for (let i = 0; i + needle.length <= hay.length; i++) {
    if (needle.every((id, k) => hay[i + k] === id)) found++;
  }
  return found;
}
const ASSISTANT_MARK = llama.encode(" ASSISTANT:", { leadingSpace: false });

describe("vicuna_v1.1 properties", () => {
  // Every family's "never forges a turn" property checks which special ids occur and that no
  // marker is inside system or message text; these pin where Vicuna's real ones are.
  it("puts EOS right after each non-empty assistant answer and \" ASSISTANT:\" after each non-empty user message", () => {
    fc.assert(
      fc.property(anyConversation, (c) => {
        const { tokens, spans } = renderPromptTokenLayout(vicuna, c);
        const answered = c.messages.flatMap((m, i) => (m.role === "assistant" && m.content !== "" ? [i] : []));
        const eosAt = tokens.flatMap((id, i) => (id === llama.eosId ? [i] : []));
        expect(eosAt).toEqual(answered.map((i) => spans.find((s) => s.part === "message" && s.message === i)!.end));
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
        expect(renderPromptText(vicuna, c).startsWith(`${VICUNA_V11_SYSTEM} USER:`)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});
