/**
 * The Vicuna v1.1 conversation template (FastChat's `vicuna_v1.1`, also used by Vicuna v1.5) as
 * data, and its layout: a rendered prompt cut into pieces at the points where SentencePiece can
 * never merge across, so the text and the token renderings are built from the same pieces.
 * Pure: no I/O.
 */
import type { ChatMessage } from "../../wire/openai.js";
import { EOS_TEXT } from "./tokenizer.js";

/** Template names as they appear in the MODELS config. */
export const TEMPLATE_IDS = ["vicuna_v1.1"] as const;
export type TemplateId = (typeof TEMPLATE_IDS)[number];

/** FastChat's vicuna_v1.1: sep_style ADD_COLON_TWO, roles USER/ASSISTANT, sep " ", sep2 "</s>". */
export const VICUNA_V11 = {
  system:
    "A chat between a curious user and an artificial intelligence assistant. " +
    "The assistant gives helpful, detailed, and polite answers to the user's questions.",
  roles: { user: "USER", assistant: "ASSISTANT" },
  sep: " ",
  sep2: EOS_TEXT,
} as const;

/** A user/assistant message of a Vicuna conversation (system messages are folded into `system`). */
export interface TurnMessage extends ChatMessage {
  role: "user" | "assistant";
}

/**
 * One piece of a rendered prompt. `role` pieces carry the separator that precedes the role
 * marker (" USER:", "USER:" after an EOS, " ASSISTANT:"); `message` pieces are " " + text;
 * `eos` is the real turn end. `message` is the index into the conversation's messages (the
 * open assistant turn at the end has index messages.length).
 */
export type PromptPiece =
  | { kind: "system"; text: string }
  | { kind: "role"; text: string; message: number }
  | { kind: "message"; text: string; message: number }
  | { kind: "eos"; text: typeof EOS_TEXT; message: number };

// U+2060 WORD JOINER: invisible, one token in the LLaMA vocabulary, and it breaks the
// "USER:" / "ASSISTANT:" token sequence without changing what a reader sees.
export const MARKER_BREAK = "\u2060";

// The trained role words, standing on their own (not the tail of SUPERUSER or MY_USER),
// followed by optional spaces or tabs and a colon: "USER:", "\nASSISTANT :", " USER:". Only the
// upper-case words are touched: those are the markers Vicuna was trained on, while "user:" and
// "User:" are everyday text and code (`user: User`) that must stay byte-exact.
const FORGED_MARKER = /\b(USER|ASSISTANT)([ \t]*):/g;
// Lone UTF-16 surrogates cannot be tokenized (UTF-8 has no encoding for them); the tokenizer
// would see U+FFFD, so the text rendering shows U+FFFD as well.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// U+2581 is SentencePiece's own mark for a space: the tokenizer cannot tell a literal one from a
// space, so the model reads it as a space and the text rendering shows a space too.
const SPACE_MARK = /\u2581/g;

/**
 * Makes message text safe to place between real role markers: a word joiner goes before the
 * colon of anything that looks like a role marker, lone surrogates become U+FFFD and
 * SentencePiece's space mark a space. Text without any of these is returned unchanged
 * (byte-exact with FastChat).
 */
export function neutraliseText(text: string): string {
  return text.replace(LONE_SURROGATE, "\uFFFD").replace(SPACE_MARK, " ").replace(FORGED_MARKER, `$1$2${MARKER_BREAK}:`);
}

/**
 * Lays out a conversation as FastChat's ADD_COLON_TWO get_prompt does: system + sep, then per
 * message `ROLE: text` + sep (sep after user, sep2 after assistant), or just `ROLE:` for an empty
 * message (no separator follows it), ending with the open `ASSISTANT:` turn. Message and system
 * text are neutralised first. The caller has already validated the message order.
 */
export function layoutVicuna(system: string, messages: readonly TurnMessage[]): PromptPiece[] {
  const pieces: PromptPiece[] = [];
  const systemText = neutraliseText(system);
  if (systemText !== "") pieces.push({ kind: "system", text: systemText });
  // The separator owed by whatever came before the next role marker.
  let pendingSep: string = VICUNA_V11.sep;
  const withOpenTurn: readonly TurnMessage[] = [...messages, { role: "assistant", content: "" }];
  withOpenTurn.forEach((m, index) => {
    pieces.push({ kind: "role", text: `${pendingSep}${VICUNA_V11.roles[m.role]}:`, message: index });
    const text = neutraliseText(m.content);
    if (text === "") {
      pendingSep = "";
      return;
    }
    pieces.push({ kind: "message", text: ` ${text}`, message: index });
    if (m.role === "user") {
      pendingSep = VICUNA_V11.sep;
    } else {
      pieces.push({ kind: "eos", text: EOS_TEXT, message: index });
      pendingSep = "";
    }
  });
  return pieces;
}
