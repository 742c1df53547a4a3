/**
 * OpenAI wire types as the gateway speaks them: the chat-completion request it accepts, the
 * objects it returns, and the error envelope. Imported by the gateway, the bot, tests and benches.
 */
import { z } from "zod";

export const ChatRole = z.enum(["system", "user", "assistant"]);
export type ChatRole = z.infer<typeof ChatRole>;

/** Content may be a string or OpenAI's array of text parts; only text parts are supported. */
export const MessageContent = z.union([
  z.string(),
  z.array(z.object({ type: z.literal("text"), text: z.string() }).strict()),
]);

export const ChatMessage = z
  .object({
    role: ChatRole,
    content: MessageContent,
    name: z.string().max(64).optional(),
  })
  .strict();
export type ChatMessageInput = z.infer<typeof ChatMessage>;

/** A message after normalisation: plain text content. */
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export const StopSequences = z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]);

/** Sampling parameters shared by chat completions and conversation turns. */
export const SamplingParams = {
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).strict().nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  stop: StopSequences.nullish(),
  user: z.string().min(1).max(256).optional(),
};

/** The sampling fields of a request, as parsed. */
export type Sampling = z.infer<ReturnType<typeof z.object<typeof SamplingParams>>>;

export type FinishReason = "stop" | "length";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: "assistant"; content: string };
    finish_reason: FinishReason;
    logprobs: null;
  }>;
  usage: Usage;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: { role?: "assistant"; content?: string };
    finish_reason: FinishReason | null;
    logprobs: null;
  }>;
  usage?: Usage | null;
}

export interface ModelCard {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
  context_length?: number;
}

/** OpenAI error envelope: every error the gateway returns has exactly this shape. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export const ErrorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
