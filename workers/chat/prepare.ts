/**
 * Request-side checks shared by the generating routes: which model, and message text within the
 * size limits.
 */
import type { ChatMessage, ChatMessageInput } from "../../wire/openai.js";
import type { GatewayConfig } from "../config.js";
import { GatewayError, notFound } from "../errors.js";
import type { ModelRuntime } from "../models/runtime.js";

export function resolveModel(config: GatewayConfig, id: string | undefined): ModelRuntime {
  if (id === undefined) return config.defaultModel;
  const model = config.models.get(id);
  if (!model) throw notFound(`The model '${id}' does not exist. GET /v1/models lists the models served here.`, "model_not_found");
  return model;
}

/** Plain text of a message; OpenAI's array-of-text-parts form is joined. */
export function contentText(content: ChatMessageInput["content"]): string {
  return typeof content === "string" ? content : content.map((p) => p.text).join("");
}

export function messageTooLong(param: string, limit: number): GatewayError {
  return new GatewayError({
    status: 413,
    type: "invalid_request_error",
    message: `${param} is longer than the limit of ${limit} characters.`,
    param,
    code: "message_too_long",
  });
}

export function normaliseMessages(config: GatewayConfig, input: readonly ChatMessageInput[]): ChatMessage[] {
  return input.map((m, i) => {
    const content = contentText(m.content);
    if (content.length > config.maxMessageChars) throw messageTooLong(`messages[${i}].content`, config.maxMessageChars);
    return { role: m.role, content };
  });
}
