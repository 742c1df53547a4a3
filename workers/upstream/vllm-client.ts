/**
 * One streamed completion from one vLLM worker: `POST /v1/completions` with the token-id prompt
 * the gateway rendered, plus the ids of any answer already sent when a stream is resumed here.
 */
import { readCompletionChunk } from "./chunk-readers.js";
import { streamSse, type SseTimeouts } from "./sse-upstream.js";
import type { UpstreamEvent } from "./upstream-error.js";

export interface Backend {
  id: string;
  /** Base URL; `/v1/completions` is appended. */
  url: string;
}

/** Sampling as vLLM takes it; null/absent fields are left to vLLM's defaults. */
export interface VllmSampling {
  temperature?: number | null;
  top_p?: number | null;
  stop?: string[];
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  seed?: number | null;
  logit_bias?: Record<string, number> | null;
}

export interface CompletionRequest {
  model: string;
  promptTokens: readonly number[];
  maxTokens: number;
  sampling: VllmSampling;
}

/** The set sampling fields only, so the upstream applies its own defaults to the rest. */
export function definedFields(sampling: VllmSampling): Record<string, unknown> {
  return Object.fromEntries(Object.entries(sampling).filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0)));
}

/** Streams one completion. Throws UpstreamError for worker failures; rethrows aborts. */
export function streamCompletion(
  backend: Backend,
  request: CompletionRequest,
  options: SseTimeouts & { apiKey: string | undefined },
): AsyncGenerator<UpstreamEvent> {
  return streamSse(
    {
      name: `worker ${backend.id}`,
      url: `${backend.url.replace(/\/+$/, "")}/v1/completions`,
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
      body: {
        model: request.model,
        prompt: request.promptTokens,
        max_tokens: request.maxTokens,
        ...definedFields(request.sampling),
        stream: true,
        stream_options: { include_usage: true },
      },
      readChunk: readCompletionChunk,
    },
    options,
  );
}
