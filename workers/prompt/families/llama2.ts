/**
 * Llama-2-chat: FastChat's `llama-2` template (sep_style LLAMA2, roles [INST]/[/INST],
 * system_template "[INST] <<SYS>>\n{system_message}\n<</SYS>>\n\n", sep " ", sep2 " </s><s>", no
 * default system message):
 *   "[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{u} [/INST] {a} </s><s>[INST] {u} [/INST]"
 * and without a system message "[INST] {u} [/INST] …". The system block lives inside the first
 * instruction, so the first kept user message renders without its own "[INST]".
 *
 * Tokens: every "</s><s>" is EOS, BOS, and the "[INST]" after each BOS starts a new SentencePiece
 * sequence ("▁[", "INST", "]"), as Meta's reference (llama/generation.py) encodes each turn
 * `BOS + "[INST] {u} [/INST] {a} " + EOS` on its own.
 *
 * Empty messages follow FastChat byte for byte, quirks included: an empty user message renders as
 * its bare tag ("[INST]"), an empty answer as "[/INST]" with no turn end.
 */
import type { PromptPiece } from "../pieces.js";
import { MARKER_BREAK, markerBreaker } from "./neutralise.js";
import { LEADING_BOS, type PromptFamily, type TurnInput } from "./types.js";

// "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>" exactly as the template writes them (upper case, no
// inner spaces): the word joiner goes right after the opening bracket(s) and slash.
const FORGED_MARKER = /(\[\/?(?=INST\])|<<\/?(?=SYS>>))/g;

const marker = (text: string, message: number | null): PromptPiece => ({ kind: "text", part: "marker", text, message });
const messageText = (text: string, message: number): PromptPiece => ({ kind: "text", part: "message", text, message });

function head(system: string | null): PromptPiece[] {
  // FastChat: `if self.system_message:` — an empty system message means no system block.
  if (system === null || system === "") return [LEADING_BOS, marker("[INST]", null)];
  return [
    LEADING_BOS,
    marker("[INST] <<SYS>>\n", null),
    { kind: "text", part: "system", text: system, message: null },
    marker("\n<</SYS>>\n\n", null),
  ];
}

function turn({ role, text, index, previous, system }: TurnInput): PromptPiece[] {
  if (role === "user") {
    if (previous === null) {
      // The first instruction was opened by the head: "[INST] " or the system block.
      const hasSystem = system !== null && system !== "";
      if (text === "" || text === null) return [marker(hasSystem ? "[INST]" : " [INST]", index)];
      return [messageText(hasSystem ? text : ` ${text}`, index)];
    }
    if (text === "" || text === null) return [marker("[INST]", index)];
    return [marker("[INST]", index), messageText(` ${text}`, index)];
  }
  // A user message leaves a trailing sep (" "), which goes before this tag; an empty one none.
  const pieces: PromptPiece[] = [marker(previous === "" ? "[/INST]" : " [/INST]", index)];
  if (text === null || text === "") return pieces;
  pieces.push(
    messageText(` ${text}`, index),
    marker(" ", index),
    { kind: "special", token: "</s>", text: "</s>", message: index },
    { kind: "special", token: "<s>", text: "<s>", message: index },
  );
  return pieces;
}

export const llama2Chat: PromptFamily = {
  id: "llama-2-chat",
  reference: "FastChat conversation.py `llama-2` (LLAMA2); tokens as Meta's llama/generation.py",
  defaultSystem: null,
  tokenizers: ["llama"],
  specialTokens: ["<s>", "</s>"],
  markers: ["[INST]", "[/INST]", "<<SYS>>", "<</SYS>>"],
  neutralise: markerBreaker(FORGED_MARKER, `$1${MARKER_BREAK}`),
  head,
  turn,
};
