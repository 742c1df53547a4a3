/**
 * Vicuna template names from before the multi-family prompt layer, kept as thin re-exports until
 * their callers move to index.ts / families/.
 */
import type { TurnMessage } from "./conversation.js";
import { MARKER_BREAK } from "./families/neutralise.js";
import { VICUNA_V11_DEFAULT_SYSTEM, vicunaV11 } from "./families/vicuna.js";
import type { PromptPiece } from "./pieces.js";
import { preparedPieces } from "./render.js";

export { TEMPLATE_IDS, type TemplateId } from "./families/types.js";
export type { PromptPiece, TurnMessage };
export { MARKER_BREAK };

/** @deprecated use getPromptFamily("vicuna_v1.1") */
export const VICUNA_V11 = {
  system: VICUNA_V11_DEFAULT_SYSTEM,
  roles: { user: "USER", assistant: "ASSISTANT" },
  sep: " ",
  sep2: "</s>",
} as const;

/** @deprecated use getPromptFamily("vicuna_v1.1").neutralise */
export function neutraliseText(text: string): string {
  return vicunaV11.neutralise(text);
}

/** @deprecated use renderPromptPieces(promptRuntime("vicuna_v1.1"), c); messages must already be checked */
export function layoutVicuna(system: string, messages: readonly TurnMessage[]): PromptPiece[] {
  return preparedPieces(vicunaV11, {
    system: vicunaV11.neutralise(system),
    messages: messages.map((m) => ({ role: m.role, text: vicunaV11.neutralise(m.content) })),
  });
}
