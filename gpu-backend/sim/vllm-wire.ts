/**
 * vLLM's OpenAI-compatible wire shapes as the simulator speaks them: request schemas (lenient
 * like vLLM: unknown fields are ignored), response and SSE chunk builders, and vLLM's error
 * envelope and wording. Pure.
 */
import { z } from "zod";
import { ChatMessage } from "../../wire/openai.js";
import type { Tokenizer } from "../../workers/prompt/index.js";
import type { FinishReason } from "./replies.js";

/** vLLM's default max_tokens for /v1/completions when the request has none. */
export const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;
export const VOCAB_SIZE = 32000;

const StopField = z.union([z.string(), z.array(z.string())]).nullish();
const StreamOptions = z.object({ include_usage: z.boolean().nullish(), continuous_usage_stats: z.boolean().nullish() }).nullish();
// Checked against the served tokenizer's vocabulary (vocabSize) once the request is parsed.
const TokenIds = z.array(z.number().int().min(0)).min(1);

/** Vocabulary size of a tokenizer: its 32,000 SentencePiece pieces and any added special tokens (ChatML's). */
export function vocabSize(tokenizer: Tokenizer): number {
  return Math.max(VOCAB_SIZE, ...Object.values(tokenizer.specialIds).map((id) => id + 1));
}

/** vLLM's 400 for a token id outside the vocabulary; null when every id is in it. */
export function tokenIdsProblem(ids: readonly number[], tokenizer: Tokenizer): string | null {
  const size = vocabSize(tokenizer);
  return ids.every((id) => id < size) ? null : `token ids must be below the vocabulary size ${size}`;
}

const Sampling = {
  model: z.string().nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).nullish(),
  // Picks the lorem text of a sampled request (see replySampling); any int64, as vLLM.
  seed: z.number().int().nullish(),
  // Accepted and ignored (the gateway passes them through), with vLLM's ranges.
  presence_penalty: z.number().min(-2, "presence_penalty must be in [-2, 2]").max(2, "presence_penalty must be in [-2, 2]").nullish(),
  frequency_penalty: z.number().min(-2, "frequency_penalty must be in [-2, 2]").max(2, "frequency_penalty must be in [-2, 2]").nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  // vLLM's extension: never end by itself, so lorem runs to max_tokens whatever --reply-length says.
  ignore_eos: z.boolean().nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  n: z.literal(1, { message: "the simulator generates one choice per request (n must be 1)" }).nullish(),
  stop: StopField,
  stream: z.boolean().nullish(),
  stream_options: StreamOptions,
};

export const CompletionRequestSchema = z.object({
  ...Sampling,
  // A single prompt: text or token ids (a one-element batch is accepted too).
  prompt: z.union([z.string(), TokenIds, z.tuple([z.string()]), z.tuple([TokenIds])]),
});
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;

export const ChatRequestSchema = z.object({
  ...Sampling,
  messages: z.array(ChatMessage).min(1),
  max_completion_tokens: z.number().int().min(1).nullish(),
});
export type ChatRequest = z.infer<typeof ChatRequestSchema>;

export const TokenizeRequestSchema = z.union([
  z.object({ prompt: z.string(), model: z.string().nullish(), add_special_tokens: z.boolean().nullish() }),
  z.object({ messages: z.array(ChatMessage).min(1), model: z.string().nullish(), add_special_tokens: z.boolean().nullish() }),
]);

/** The single prompt of a completion request: text or token ids. */
export function singlePrompt(prompt: CompletionRequest["prompt"]): string | number[] {
  if (typeof prompt === "string") return prompt;
  const first = prompt[0];
  if (typeof first === "number") return prompt as number[];
  return first as string | number[];
}

/** Stop strings as a list. */
export function stopList(stop: string | string[] | null | undefined): string[] {
  if (stop === null || stop === undefined) return [];
  return typeof stop === "string" ? [stop] : stop;
}

// ---------------------------------------------------------------- errors

/** vLLM's error body: `{"error":{"message","type","param","code"}}` with the numeric status as code. */
export interface VllmErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

const ERROR_TYPES: Record<number, string> = {
  400: "BadRequestError",
  404: "NotFoundError",
  500: "InternalServerError",
  503: "ServiceUnavailableError",
};

export function vllmError(status: number, message: string, param: string | null = null): VllmErrorBody {
  return { error: { message, type: ERROR_TYPES[status] ?? "Error", param, code: status } };
}

/**
 * vLLM's context-length check and wording: prompt + max_tokens must fit max_model_len; without a
 * max_tokens (chat), the prompt alone must be shorter than it. Null when the request fits.
 */
export function contextOverflowMessage(o: { maxModelLen: number; promptTokens: number; maxTokens: number | null }): string | null {
  const { maxModelLen, promptTokens, maxTokens } = o;
  if (maxTokens === null) {
    if (promptTokens < maxModelLen) return null;
    return (
      `This model's maximum context length is ${maxModelLen} tokens. However, you requested ` +
      `${promptTokens} tokens in the messages, Please reduce the length of the messages.`
    );
  }
  if (promptTokens + maxTokens <= maxModelLen) return null;
  return (
    `This model's maximum context length is ${maxModelLen} tokens. However, you requested ` +
    `${promptTokens + maxTokens} tokens (${promptTokens} in the messages, ${maxTokens} in the completion). ` +
    `Please reduce the length of the messages or completion.`
  );
}

// ---------------------------------------------------------------- responses

export interface VllmUsage {
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function usage(o: { promptTokens: number; completionTokens: number; cachedTokens: number }): VllmUsage {
  return {
    prompt_tokens: o.promptTokens,
    total_tokens: o.promptTokens + o.completionTokens,
    completion_tokens: o.completionTokens,
    prompt_tokens_details: { cached_tokens: o.cachedTokens },
  };
}

/** What every response object of one request shares. */
export interface ResponseHead {
  id: string;
  created: number;
  model: string;
}

/** id, object, created, model: the key order vLLM serialises. */
function ordered<O extends string>(head: ResponseHead, object: O): { id: string; object: O; created: number; model: string } {
  return { id: head.id, object, created: head.created, model: head.model };
}

export function completionChunk(head: ResponseHead, o: { text: string; finishReason: FinishReason | null; stopReason: string | null }) {
  return {
    ...ordered(head, "text_completion"),
    choices: [{ index: 0, text: o.text, logprobs: null, finish_reason: o.finishReason, stop_reason: o.stopReason }],
    usage: null,
  };
}

export function completionUsageChunk(head: ResponseHead, u: VllmUsage) {
  return { ...ordered(head, "text_completion"), choices: [], usage: u };
}

export function completionResponse(head: ResponseHead, o: { text: string; finishReason: FinishReason; stopReason: string | null; usage: VllmUsage }) {
  return {
    ...ordered(head, "text_completion"),
    choices: [{ index: 0, text: o.text, logprobs: null, finish_reason: o.finishReason, stop_reason: o.stopReason, prompt_logprobs: null }],
    usage: o.usage,
  };
}

export function chatChunk(
  head: ResponseHead,
  o: { delta: { role?: "assistant"; content: string }; finishReason: FinishReason | null; stopReason: string | null },
) {
  return {
    ...ordered(head, "chat.completion.chunk"),
    choices: [{ index: 0, delta: o.delta, logprobs: null, finish_reason: o.finishReason, stop_reason: o.stopReason }],
  };
}

export function chatUsageChunk(head: ResponseHead, u: VllmUsage) {
  return { ...ordered(head, "chat.completion.chunk"), choices: [], usage: u };
}

export function chatResponse(head: ResponseHead, o: { text: string; finishReason: FinishReason; stopReason: string | null; usage: VllmUsage }) {
  return {
    ...ordered(head, "chat.completion"),
    choices: [
      {
        index: 0,
        message: { role: "assistant" as const, content: o.text, tool_calls: [] },
        logprobs: null,
        finish_reason: o.finishReason,
        stop_reason: o.stopReason,
      },
    ],
    usage: o.usage,
  };
}

export function modelList(o: { model: string; maxModelLen: number; created: number }) {
  return {
    object: "list" as const,
    data: [
      { id: o.model, object: "model" as const, created: o.created, owned_by: "vllm", root: o.model, parent: null, max_model_len: o.maxModelLen },
    ],
  };
}
