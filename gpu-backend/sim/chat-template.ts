/**
 * The simulator's rendering for /v1/chat/completions and /tokenize: the gateway's own prompt
 * families (workers/prompt/), so a chat request renders exactly as the gateway renders it for
 * the same model. (The gateway itself renders prompts and calls /v1/completions; this makes the
 * chat endpoint usable on its own.) A conversation the template cannot express is a 400, as
 * vLLM's chat templates refuse it.
 */
import type { ChatMessage } from "../../wire/openai.js";
import {
  InvalidConversation,
  promptRuntime,
  renderPromptText,
  renderPromptTokens,
  toChatConversation,
  type ChatConversation,
  type PromptRuntime,
} from "../../workers/prompt/index.js";
import { badRequest } from "./http-io.js";

/** What a simulator serving a Vicuna model renders (the default `--template`). */
export const VICUNA_RUNTIME: PromptRuntime = promptRuntime("vicuna_v1.1");

function conversationOf(messages: ChatMessage[]): ChatConversation {
  try {
    return toChatConversation(messages);
  } catch (err) {
    if (err instanceof InvalidConversation) throw badRequest(err.message, "messages");
    throw err;
  }
}

/** The prompt text for a chat request, ready for the assistant's turn. */
export function renderChatPrompt(messages: ChatMessage[], runtime: PromptRuntime = VICUNA_RUNTIME): string {
  return chatPrompt(messages, runtime).text;
}

/**
 * The prompt as text and as the ids vLLM makes of it: BOS, then the template's markers and turn
 * ends as their special ids (vLLM's tokenizer reads "</s>" or "<|im_start|>" in the rendered
 * template as special tokens), the same ids the gateway sends for the conversation.
 */
export function chatPrompt(messages: ChatMessage[], runtime: PromptRuntime = VICUNA_RUNTIME): { text: string; tokenIds: number[] } {
  const conversation = conversationOf(messages);
  try {
    return { text: renderPromptText(runtime, conversation), tokenIds: renderPromptTokens(runtime, conversation) };
  } catch (err) {
    if (err instanceof InvalidConversation) throw badRequest(err.message, "messages");
    throw err;
  }
}
