/**
 * FastChat's ADD_COLON_TWO separator style (Vicuna v1.1, Alpaca): system + sep, then per message
 * `ROLE: text` followed by sep after a user message and sep2 after an assistant message, or just
 * `ROLE:` for an empty message (no separator follows it), ending with the open `ROLE:` of the
 * assistant. sep2 is "</s>" in both templates here: in the token rendering it is the EOS id.
 */
import type { PromptPiece } from "../pieces.js";
import { LEADING_BOS, type PromptFamily, type TemplateId, type TurnInput } from "./types.js";

export interface AddColonTwoSpec {
  id: TemplateId;
  reference: string;
  defaultSystem: string;
  roles: { user: string; assistant: string };
  sep: string;
  markers: readonly string[];
  neutralise(text: string): string;
}

const EOS: Omit<PromptPiece & { kind: "special" }, "message"> = { kind: "special", token: "</s>", text: "</s>" };

export function addColonTwoFamily(spec: AddColonTwoSpec): PromptFamily {
  const head = (system: string | null): PromptPiece[] =>
    system === null || system === "" ? [LEADING_BOS] : [LEADING_BOS, { kind: "text", part: "system", text: system, message: null }];

  const turn = ({ role, text, index, previous }: TurnInput): PromptPiece[] => {
    // The separator owed by what came before the role marker: sep after the system text and
    // after a user message; nothing after an answer's EOS or after an empty message.
    const sepBefore = previous === null ? spec.sep : previous === "" || role === "user" ? "" : spec.sep;
    const pieces: PromptPiece[] = [{ kind: "text", part: "marker", text: `${sepBefore}${spec.roles[role]}:`, message: index }];
    if (text === null || text === "") return pieces;
    pieces.push({ kind: "text", part: "message", text: ` ${text}`, message: index });
    if (role === "assistant") pieces.push({ ...EOS, message: index });
    return pieces;
  };

  return {
    id: spec.id,
    reference: spec.reference,
    defaultSystem: spec.defaultSystem,
    tokenizers: ["llama"],
    specialTokens: ["<s>", "</s>"],
    markers: spec.markers,
    neutralise: spec.neutralise,
    head,
    turn,
  };
}
