/**
 * The simulator's rendering for /v1/chat/completions and /tokenize: the gateway's own prompt
 * families (workers/prompt/), so a chat request renders exactly as the gateway renders it for
 * the same model. (The gateway itself renders prompts and calls /v1/completions; this makes the
 * chat endpoint usable on its own.) A conversation the template cannot express is a 400, as
 * vLLM's chat templates refuse it.
 */
import type { ChatMessage } from "../../wire/openai.js";
import { InvalidConversation, promptRuntime, renderPromptText, toChatConversation, type PromptRuntime } from "../../workers/prompt/index.js";
import { badRequest } from "./http-io.js";

/** What a simulator serving a Vicuna model renders (the default `--template`). */
export const VICUNA_RUNTIME: PromptRuntime = promptRuntime("vicuna_v1.1");

/** The prompt text for a chat request, ready for the assistant's turn. */
export function renderChatPrompt(messages: ChatMessage[], runtime: PromptRuntime = VICUNA_RUNTIME): string {
  try {
    return renderPromptText(runtime, toChatConversation(messages));
  } catch (err) {
    if (err instanceof InvalidConversation) throw badRequest(err.message, "messages");
    throw err;
  }
}
