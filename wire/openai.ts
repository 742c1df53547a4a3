/**
 * OpenAI wire types as the gateway speaks them: the chat-completion request it accepts, the
 * objects it returns, and the error envelope. Imported by the gateway, the bot, tests and benches.
 */
import { z } from "zod";

export const ChatRole = z.enum(["system", "user", "assistant"]);
export type ChatRole = z.infer<typeof ChatRole>;

/**
 * Roles a request may send. OpenAI's `developer` role is its newer name for `system`, and is read
 * as one, so the rest of the gateway only ever sees system, user and assistant.
 */
const RequestRole = z
  .enum(["system", "developer", "user", "assistant"], { error: "expected one of the roles system, developer, user, assistant" })
  .transform((role): ChatRole => (role === "developer" ? "system" : role));

/** Content may be a string or OpenAI's array of text parts; only text parts are supported. */
export const MessageContent = z.union(
  [z.string(), z.array(z.object({ type: z.literal("text"), text: z.string() }).strict())],
  { error: 'expected a string or an array of text parts ({"type":"text","text":"…"})' },
);

export const ChatMessage = z
  .object({
    role: RequestRole,
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

export const StopSequences = z.union([z.string().min(1), z.array(z.string().min(1)).max(4)], {
  error: "expected a string or an array of up to 4 non-empty strings",
});

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
  // Passed through to the model server (vLLM or a provider), which applies them.
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  seed: z.number().int().nullish(),
  /** Token id (as a string, in the model's vocabulary) → bias from -100 to 100. */
  logit_bias: z.record(z.string().regex(/^\d+$/, "expected token ids as keys"), z.number().min(-100).max(100)).nullish(),
  /** Accepted so tools that always send `logprobs: false` work; `true` is refused by name (replies carry none). */
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  /**
   * Whether the oldest messages may be dropped to fit the context window (OpenAI's Responses API
   * name). On /v1/chat/completions the default is "disabled": an overflow is a 400, as OpenAI
   * answers. Conversation turns always trim, and say so in x-altiplano-dropped-messages.
   */
  truncation: z.enum(["auto", "disabled"]).nullish(),
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

/*
 * Response schemas for the objects above, so the OpenAPI description and clients can be built from
 * schemas too. The interfaces stay the gateway's source of truth; each schema is checked against
 * its interface at compile time (SameShape), so the two cannot drift apart silently.
 */

/** True only when A and B are mutually assignable; used as a compile-time check, never at run time. */
export type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const FinishReasonSchema = z.enum(["stop", "length"]);

export const UsageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  prompt_tokens_details: z.object({ cached_tokens: z.number().int() }).optional(),
});

export const ChatCompletionSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal("assistant"), content: z.string() }),
      finish_reason: FinishReasonSchema,
      logprobs: z.null(),
    }),
  ),
  usage: UsageSchema,
});

/** One `data:` event of a streamed answer; the stream ends with `data: [DONE]`. */
export const ChatCompletionChunkSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion.chunk"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({ role: z.literal("assistant").optional(), content: z.string().optional() }),
      finish_reason: FinishReasonSchema.nullable(),
      logprobs: z.null(),
    }),
  ),
  usage: UsageSchema.nullish(),
});

export const ModelCardSchema = z.object({
  id: z.string(),
  object: z.literal("model"),
  created: z.number().int(),
  /** "gpu-pool", or "provider:<host>" for an external API. */
  owned_by: z.string(),
  context_length: z.number().int().optional(),
});

export const ModelListSchema = z.object({ object: z.literal("list"), data: z.array(ModelCardSchema) });

const responseSchemasMatch: [
  SameShape<z.infer<typeof UsageSchema>, Usage>,
  SameShape<z.infer<typeof ChatCompletionSchema>, ChatCompletion>,
  SameShape<z.infer<typeof ChatCompletionChunkSchema>, ChatCompletionChunk>,
  SameShape<z.infer<typeof ModelCardSchema>, ModelCard>,
  SameShape<z.infer<typeof ErrorBodySchema>, ErrorBody>,
] = [true, true, true, true, true];
