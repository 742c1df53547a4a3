/**
 * What a prompt family (a chat template) is to the gateway: data plus two pure functions that lay
 * out a prompt as pieces. The generic layer (render.ts, fit.ts) neutralises text, walks the
 * messages and encodes pieces, so a family never tokenizes and every family truncates alike.
 */
import type { PromptPiece } from "../pieces.js";
import type { TokenizerId } from "../tokenizers.js";

/** Template names as they appear in the MODELS config. */
export const TEMPLATE_IDS = ["vicuna_v1.1", "llama-2-chat", "alpaca", "chatml"] as const;
export type TemplateId = (typeof TEMPLATE_IDS)[number];

/** One turn to lay out. Texts are already neutralised by the family. */
export interface TurnInput {
  role: "user" | "assistant";
  /** The message text; null = the open assistant turn the model is to write. */
  text: string | null;
  /** Index in the conversation's messages (the open turn: messages.length). */
  index: number;
  /**
   * Text of the message before this one, or null when this is the first message of the prompt
   * (the first one kept after truncation): templates render the first turn differently.
   */
  previous: string | null;
  /** The system text in effect (the family default applied), null = none. */
  system: string | null;
}

export interface PromptFamily {
  id: TemplateId;
  /** Where the rendering comes from, for readers and error messages. */
  reference: string;
  /** System text when the request has none; null = no system block. */
  defaultSystem: string | null;
  /** Tokenizers of models trained on this template; the first is the usual one. */
  tokenizers: readonly TokenizerId[];
  /** Special tokens the layout uses, which the tokenizer must have. */
  specialTokens: readonly string[];
  /** Marker texts that would start a turn if message text could contain them (see neutralise). */
  markers: readonly string[];
  /**
   * Makes system or message text safe to place between real markers, changing nothing else:
   * ordinary text stays byte-exact with the reference rendering.
   */
  neutralise(text: string): string;
  /** BOS and the system block. */
  head(system: string | null): PromptPiece[];
  /** The pieces of one message or of the open assistant turn. */
  turn(input: TurnInput): PromptPiece[];
}

/** The BOS every prompt starts with; FastChat's text rendering does not show it. */
export const LEADING_BOS: PromptPiece = { kind: "special", token: "<s>", text: "", message: null };
