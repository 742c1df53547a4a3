/**
 * The prompt families by template name. Adding a family = one file and one entry here.
 */
import { getTokenizer, TOKENIZER_IDS, type TokenizerId } from "../tokenizers.js";
import { alpaca } from "./alpaca.js";
import { chatml } from "./chatml.js";
import { llama2Chat } from "./llama2.js";
import type { PromptFamily, TemplateId } from "./types.js";
import { vicunaV11 } from "./vicuna.js";

export { TEMPLATE_IDS, type PromptFamily, type TemplateId, type TurnInput } from "./types.js";

const FAMILIES: Readonly<Record<TemplateId, PromptFamily>> = {
  "vicuna_v1.1": vicunaV11,
  "llama-2-chat": llama2Chat,
  alpaca,
  chatml,
};

export function getPromptFamily(id: TemplateId): PromptFamily {
  return FAMILIES[id];
}

/**
 * Null when `template` can be rendered with `tokenizer`, else a readable reason, for the config
 * layer to reject a model entry such as { template: "chatml", tokenizer: "llama" }.
 */
export function checkTemplateTokenizer(template: TemplateId, tokenizer: TokenizerId): string | null {
  const family = FAMILIES[template];
  if (!TOKENIZER_IDS.includes(tokenizer)) return `Unknown tokenizer "${tokenizer}"; known: ${TOKENIZER_IDS.join(", ")}.`;
  if (family === undefined) return `Unknown template "${template}"; known: ${Object.keys(FAMILIES).join(", ")}.`;
  if (!family.tokenizers.includes(tokenizer)) {
    return (
      `Template "${template}" does not work with tokenizer "${tokenizer}": its models use ` +
      `${family.tokenizers.map((t) => `"${t}"`).join(" or ")}.`
    );
  }
  const missing = family.specialTokens.filter((t) => getTokenizer(tokenizer).specialIds[t] === undefined);
  if (missing.length > 0) return `Tokenizer "${tokenizer}" lacks the special tokens ${missing.join(", ")} that template "${template}" needs.`;
  return null;
}
