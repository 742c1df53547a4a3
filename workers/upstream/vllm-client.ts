/**
 * One streamed completion from one vLLM worker (`POST /v1/completions` with a token-id prompt),
 * as an async sequence of text deltas and a final event. Failures are classified so the caller
 * can decide whether another worker may take over.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { z } from "zod";
import type { FinishReason } from "../../wire/openai.js";
import { StallWatch } from "./stall-watch.js";

export interface Backend {
  id: string;
  /** Base URL; `/v1/completions` is appended. */
  url: string;
}

export interface CompletionParams {
  model: string;
  promptTokens: readonly number[];
  maxTokens: number;
  temperature: number | null;
  topP: number | null;
  stop: string[];
}

export type UpstreamEvent =
  | { kind: "text"; text: string }
  | { kind: "end"; finishReason: FinishReason; usage: { promptTokens: number; completionTokens: number; cachedTokens: number } | null };

/** Worker answers that reject the request itself rather than signal a broken worker. */
const REQUEST_ERROR_STATUSES = new Set([400, 413, 422]);

export type UpstreamFailurePhase = "connect" | "status" | "first-token-timeout" | "stall" | "stream";

/** A worker failed; `retryable` says whether another worker may be tried. */
export class UpstreamError extends Error {
  constructor(
    readonly phase: UpstreamFailurePhase,
    message: string,
    readonly status: number | null = null,
    readonly retryable = true,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

const CompletionChunk = z.object({
  choices: z
    .array(z.object({ text: z.string().optional().default(""), finish_reason: z.string().nullish() }))
    .optional()
    .default([]),
  usage: z
    .object({
      prompt_tokens: z.number(),
      completion_tokens: z.number(),
      prompt_tokens_details: z.object({ cached_tokens: z.number().nullish() }).nullish(),
    })
    .nullish(),
});

const VllmErrorBody = z.union([
  z.object({ error: z.object({ message: z.string() }) }),
  z.object({ message: z.string() }),
]);

async function upstreamMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const parsed = VllmErrorBody.safeParse(JSON.parse(text));
    if (parsed.success) return "error" in parsed.data ? parsed.data.error.message : parsed.data.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 500) || `HTTP ${response.status}`;
}

export interface StreamOptions {
  apiKey: string | undefined;
  signal: AbortSignal;
  /** Give up on this worker when no first token arrives within this time. */
  firstTokenTimeoutMs: number;
  /**
   * Give up on this worker when, after its first token, it sends nothing for this long: a worker
   * that hangs mid-answer is a mid-stream failure like one that drops the connection. Only time
   * spent waiting on the worker counts, not time the caller spends relaying a token.
   */
  tokenStallTimeoutMs: number;
}

/** Streams one completion. Throws UpstreamError for worker failures; rethrows aborts. */
export async function* streamCompletion(backend: Backend, params: CompletionParams, options: StreamOptions): AsyncGenerator<UpstreamEvent> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal.reason);
  if (options.signal.aborted) onAbort();
  options.signal.addEventListener("abort", onAbort);
  let sawFirstToken = false;
  const stall = new StallWatch(options.tokenStallTimeoutMs, () =>
    controller.abort(new UpstreamError("stall", `worker ${backend.id} sent nothing for ${options.tokenStallTimeoutMs} ms mid-answer`)),
  );
  const firstTokenTimer = setTimeout(() => {
    if (!sawFirstToken) controller.abort(new UpstreamError("first-token-timeout", `worker ${backend.id} sent no token within ${options.firstTokenTimeoutMs} ms`));
  }, options.firstTokenTimeoutMs);

  const failure = (err: unknown, phase: UpstreamFailurePhase): unknown => {
    if (options.signal.aborted) return options.signal.reason ?? err;
    if (controller.signal.reason instanceof UpstreamError) return controller.signal.reason;
    if (err instanceof UpstreamError) return err;
    return new UpstreamError(phase, `worker ${backend.id}: ${err instanceof Error ? err.message : String(err)}`);
  };

  try {
    let response: Response;
    try {
      response = await fetch(`${backend.url.replace(/\/+$/, "")}/v1/completions`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: params.model,
          prompt: params.promptTokens,
          max_tokens: params.maxTokens,
          ...(params.temperature !== null ? { temperature: params.temperature } : {}),
          ...(params.topP !== null ? { top_p: params.topP } : {}),
          ...(params.stop.length > 0 ? { stop: params.stop } : {}),
          stream: true,
          stream_options: { include_usage: true },
        }),
        signal: controller.signal,
      });
    } catch (err) {
      throw failure(err, "connect");
    }
    if (response.status !== 200 || !response.body) {
      const message = await upstreamMessage(response);
      // 400/413/422 are about the request, which another worker would refuse too. Anything else
      // (5xx, 429, a 401/403 from a worker whose --api-key differs, a 404 from one that no longer
      // serves the model) is this worker's problem: try the next.
      const aboutTheRequest = REQUEST_ERROR_STATUSES.has(response.status);
      throw new UpstreamError("status", `worker ${backend.id} answered ${response.status}: ${message}`, response.status, !aboutTheRequest);
    }

    const pending: UpstreamEvent[] = [];
    let finishReason: FinishReason | null = null;
    let usage: Extract<UpstreamEvent, { kind: "end" }>["usage"] = null;
    let done = false;
    let malformed: string | null = null;
    const parser = createParser({
      onEvent(event: EventSourceMessage) {
        if (done || malformed) return;
        if (event.data === "[DONE]") {
          done = true;
          return;
        }
        let json: unknown;
        try {
          json = JSON.parse(event.data);
        } catch {
          malformed = `worker ${backend.id} sent malformed SSE data`;
          return;
        }
        const chunk = CompletionChunk.safeParse(json);
        if (!chunk.success) {
          malformed = `worker ${backend.id} sent an unexpected chunk`;
          return;
        }
        for (const choice of chunk.data.choices) {
          if (choice.text) pending.push({ kind: "text", text: choice.text });
          if (choice.finish_reason === "length") finishReason = "length";
          else if (choice.finish_reason) finishReason = "stop";
        }
        if (chunk.data.usage) {
          usage = {
            promptTokens: chunk.data.usage.prompt_tokens,
            completionTokens: chunk.data.usage.completion_tokens,
            cachedTokens: chunk.data.usage.prompt_tokens_details?.cached_tokens ?? 0,
          };
        }
      },
    });

    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      while (!done) {
        let read: ReadableStreamReadResult<string>;
        if (sawFirstToken) stall.waiting();
        try {
          read = await reader.read();
        } catch (err) {
          throw failure(err, "stream");
        } finally {
          stall.received();
        }
        if (read.done) break;
        parser.feed(read.value);
        if (malformed) throw new UpstreamError("stream", malformed);
        while (pending.length > 0) {
          const event = pending.shift()!;
          if (event.kind === "text") sawFirstToken = true;
          yield event;
        }
      }
    } finally {
      reader.cancel().catch(() => undefined);
    }
    if (finishReason === null) throw new UpstreamError("stream", `worker ${backend.id} ended the stream without a finish reason`);
    yield { kind: "end", finishReason, usage };
  } finally {
    clearTimeout(firstTokenTimer);
    stall.stop();
    options.signal.removeEventListener("abort", onAbort);
  }
}
