/**
 * Turning a validated request into what a generation needs: the model's configuration, plain-text
 * messages within the size limits, a prompt fitted to the context window, sampling parameters.
 */
import type { ChatMessage, ChatMessageInput, Sampling } from "../../wire/openai.js";
import type { GatewayConfig, ModelConfig } from "../config.js";
import { GatewayError, invalidRequest, notFound } from "../errors.js";
import { prefixHash } from "../prompt/prefix-hash.js";
import { fitToContext } from "../prompt/truncate.js";
import type { VicunaConversation } from "../prompt/vicuna.js";
import type { CompletionParams } from "../upstream/vllm-client.js";

export function resolveModel(config: GatewayConfig, id: string | undefined): ModelConfig {
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

export interface PreparedPrompt {
  tokens: number[];
  promptTokens: number;
  maxTokens: number;
  droppedMessages: number;
  prefixHash: string;
}

/** Fits the conversation to the model's window, or throws 400 context_length_exceeded. */
export function preparePrompt(model: ModelConfig, conversation: VicunaConversation, sampling: Sampling): PreparedPrompt {
  const fit = fitToContext({
    conversation,
    contextLength: model.contextLength,
    maxTokens: sampling.max_completion_tokens ?? sampling.max_tokens ?? null,
    defaultMaxTokens: model.defaultMaxTokens,
  });
  if (!fit.ok) throw invalidRequest(fit.message, "messages", fit.code);
  return {
    tokens: fit.tokens,
    promptTokens: fit.promptTokens,
    maxTokens: fit.maxTokens,
    droppedMessages: fit.droppedMessages,
    prefixHash: prefixHash(fit.tokens),
  };
}

export function completionParams(model: ModelConfig, prompt: PreparedPrompt, sampling: Sampling): CompletionParams {
  const stop = sampling.stop == null ? [] : typeof sampling.stop === "string" ? [sampling.stop] : sampling.stop;
  return {
    model: model.id,
    promptTokens: prompt.tokens,
    maxTokens: prompt.maxTokens,
    temperature: sampling.temperature ?? null,
    topP: sampling.top_p ?? null,
    stop,
  };
}
