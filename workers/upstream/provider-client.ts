/**
 * One streamed chat completion from an external OpenAI-compatible provider: `POST
 * {baseUrl}/chat/completions` with messages (the provider owns its template), always streamed so
 * one relay serves streaming and non-streaming clients, with usage requested in the last chunk.
 */
import type { ChatMessage } from "../../wire/openai.js";
import { readChatChunk } from "./chunk-readers.js";
import { streamSse, type SseTimeouts } from "./sse-upstream.js";
import type { UpstreamEvent } from "./upstream-error.js";
import { definedFields, type VllmSampling } from "./vllm-client.js";

export interface ProviderEndpoint {
  /** The model id clients use here; names the provider in messages. */
  modelId: string;
  baseUrl: string;
  upstreamModel: string;
  /** The provider's key (from a Worker secret). Never logged, never put in a message. */
  apiKey: string;
}

export interface ProviderChatRequest {
  messages: readonly ChatMessage[];
  maxTokens: number;
  sampling: VllmSampling;
}

/**
 * A provider's status is worth another attempt when it is about load or a passing fault (408,
 * 409, 429, 5xx). 400/413/422 reject the request; 401/403/404 mean the gateway's own provider
 * settings are wrong: neither improves by retrying.
 */
export function isRetryableProviderStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Streams one chat completion. Throws UpstreamError for provider failures; rethrows aborts. */
export function streamProviderChat(endpoint: ProviderEndpoint, request: ProviderChatRequest, options: SseTimeouts): AsyncGenerator<UpstreamEvent> {
  const key = endpoint.apiKey;
  return streamSse(
    {
      name: `provider of ${endpoint.modelId}`,
      url: `${endpoint.baseUrl.replace(/\/+$/, "")}/chat/completions`,
      headers: { authorization: `Bearer ${key}` },
      body: {
        model: endpoint.upstreamModel,
        messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
        max_tokens: request.maxTokens,
        ...definedFields(request.sampling),
        stream: true,
        stream_options: { include_usage: true },
      },
      readChunk: readChatChunk,
      redact: (text) => (key === "" ? text : text.split(key).join("[redacted]")),
      isRetryableStatus: isRetryableProviderStatus,
    },
    options,
  );
}
