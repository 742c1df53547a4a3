/**
 * The simulator's own minimal Vicuna v1.1 rendering for /v1/chat/completions. The gateway renders
 * prompts itself and calls /v1/completions; this only has to make the chat endpoint usable.
 */
import type { ChatMessage } from "../../wire/openai.js";

export const DEFAULT_SYSTEM_PROMPT =
  "A chat between a curious user and an artificial intelligence assistant. " +
  "The assistant gives helpful, detailed, and polite answers to the user's questions.";

/** `system USER: u ASSISTANT: a</s>USER: u2 ASSISTANT:` — ends ready for the assistant's turn. */
export function renderVicunaChat(messages: readonly ChatMessage[]): string {
  const system = messages.filter((m) => m.role === "system").map((m) => m.content).join("\n");
  let prompt = `${system === "" ? DEFAULT_SYSTEM_PROMPT : system} `;
  for (const m of messages) {
    if (m.role === "user") prompt += `USER: ${m.content} `;
    else if (m.role === "assistant") prompt += `ASSISTANT: ${m.content}</s>`;
  }
  return `${prompt}ASSISTANT:`;
}
