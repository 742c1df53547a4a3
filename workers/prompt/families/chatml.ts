/**
 * ChatML as OpenHermes-2.5-Mistral-7B publishes it (its tokenizer_config chat_template, which
 * FastChat's CHATML style reproduces for non-empty messages):
 *   "<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{u}<|im_end|>\n
 *    <|im_start|>assistant\n{a}<|im_end|>\n…<|im_start|>assistant\n"
 * No system block without a system message (no default, as in the published template; FastChat's
 * OpenHermes entry adds a "You are Hermes 2" default, not used here). An explicit empty system
 * message still gets its block, as both references render it. An empty message is a complete
 * empty turn "<|im_start|>user\n<|im_end|>\n", as the published template renders it (FastChat
 * would leave out <|im_end|>\n). The prompt starts with BOS, which vLLM adds to a text prompt.
 *
 * Tokens: <|im_start|> and <|im_end|> are only ever the special ids (32001, 32000 with the
 * mistral tokenizer); the same text inside a message is plain characters, and also gets a word
 * joiner so the text rendering never shows a marker either.
 */
import type { PromptPiece } from "../pieces.js";
import { MARKER_BREAK, markerBreaker } from "./neutralise.js";
import { LEADING_BOS, type PromptFamily, type TurnInput } from "./types.js";

const FORGED_MARKER = /<\|(im_start|im_end)\|>/g;

const IM_START = "<|im_start|>";
const IM_END = "<|im_end|>";

const special = (token: string, message: number | null): PromptPiece => ({ kind: "special", token, text: token, message });
const marker = (text: string, message: number | null): PromptPiece => ({ kind: "text", part: "marker", text, message });

/** One "<|im_start|>{role}\n{text}<|im_end|>\n" block; text null leaves it open. */
function block(role: string, text: string | null, message: number | null, part: "system" | "message"): PromptPiece[] {
  const pieces = [special(IM_START, message), marker(`${role}\n`, message)];
  if (text === null) return pieces;
  if (text !== "") pieces.push({ kind: "text", part, text, message });
  pieces.push(special(IM_END, message), marker("\n", message));
  return pieces;
}

export const chatml: PromptFamily = {
  id: "chatml",
  reference: "OpenHermes-2.5-Mistral-7B chat_template (= FastChat CHATML for non-empty messages)",
  defaultSystem: null,
  tokenizers: ["mistral"],
  specialTokens: ["<s>", IM_START, IM_END],
  markers: [IM_START, IM_END],
  neutralise: markerBreaker(FORGED_MARKER, `<|${MARKER_BREAK}$1|>`),
  head: (system) => (system === null ? [LEADING_BOS] : [LEADING_BOS, ...block("system", system, null, "system")]),
  turn: ({ role, text, index }: TurnInput) => block(role, text, index, "message"),
};
