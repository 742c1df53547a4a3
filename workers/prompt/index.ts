/**
 * The prompt layer's API for the gateway: chat templates ("families") rendered as text and as
 * token ids, fitted to a context window, with the tokenizers they need.
 */
export { checkConversation, InvalidConversation, toChatConversation, type ChatConversation, type TurnMessage } from "./conversation.js";
export { checkTemplateTokenizer, getPromptFamily, TEMPLATE_IDS, type PromptFamily, type TemplateId, type TurnInput } from "./families/index.js";
export { fitToContext, MAX_NEW_MESSAGE_TOKENS, type FitInput, type FitResult, type NewMessageTokens } from "./fit.js";
export { packTokenIds, reusableIds, tokensKey, unpackTokenIds, type StoredBytes, type StoredTokens } from "./stored-tokens.js";
export type { PromptPiece, TokenLayout } from "./pieces.js";
export { DEFAULT_PREFIX_BLOCKS, PREFIX_BLOCK_TOKENS, prefixHash } from "./prefix-hash.js";
export {
  countTokens,
  encodeContinuation,
  promptRuntime,
  renderPromptPieces,
  renderPromptText,
  renderPromptTokenLayout,
  renderPromptTokens,
  type PromptRuntime,
} from "./render.js";
export { getTokenizer, TOKENIZER_IDS, type Tokenizer, type TokenizerId } from "./tokenizers.js";
export { DEFAULT_ENCODE_CACHE_MAX_TOKENS, setEncodeCacheMaxTokens } from "./encode-cache.js";
