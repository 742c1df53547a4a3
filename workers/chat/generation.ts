/**
 * One generation across workers: try candidates in order; a failure before the first token moves
 * to the next worker, a failure mid-stream resumes on the next worker from the prompt plus the
 * text already produced, so the caller sees one stream. Usage counts what was really generated.
 */
import type { MessageStatus } from "../../wire/conversations.js";
import type { FinishReason } from "../../wire/openai.js";
import { encodeText } from "../prompt/tokenizer.js";
import { nextAttemptWaitMs } from "./failover-budget.js";
import { streamCompletion, UpstreamError, type Backend, type CompletionParams } from "../upstream/vllm-client.js";

export interface GenerationHooks {
  /** Called with each text delta as it arrives and the worker that produced it; a rejection means the client is gone. */
  onText(delta: string, workerId: string): Promise<void>;
  /** Told of each worker outcome (circuit breaker, metrics). */
  onWorkerOutcome?(backend: Backend, outcome: "success" | "failure", error?: UpstreamError): void;
  /** Told when an attempt starts; the returned function is called when it ends (in-flight counts). */
  onAttempt?(backend: Backend): () => void;
}

/** When a generation gives up on a worker, and on failing over (configured in workers/config.ts). */
export interface FailoverPolicy {
  /** Workers tried, counting the first. */
  maxAttempts: number;
  /** The longest one worker is given for its first token. */
  firstTokenTimeoutMs: number;
  /** The longest the client goes without a token while workers are tried (see failover-budget.ts). */
  failoverDeadlineMs: number;
  /** A worker silent this long after its first token is a mid-stream failure. */
  tokenStallTimeoutMs: number;
}

export interface GenerationOptions extends FailoverPolicy {
  candidates: readonly Backend[];
  apiKey: string | undefined;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
}

export interface GenerationResult {
  text: string;
  status: MessageStatus;
  finishReason: FinishReason | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  workerId: string | null;
  attempts: number;
  failovers: number;
  /** Set when status is `failed`: the last worker error. */
  error: UpstreamError | null;
  /** Milliseconds from the start of `generate` to the first text; absent if none arrived (the TTFT metric). */
  timeToFirstTokenMs?: number;
}

function statusOf(reason: FinishReason): MessageStatus {
  return reason === "length" ? "length" : "complete";
}

/** Runs the generation; never throws for worker failures (they end in status `failed`). */
export async function generate(params: CompletionParams, options: GenerationOptions, hooks: GenerationHooks): Promise<GenerationResult> {
  const result: GenerationResult = {
    text: "",
    status: "failed",
    finishReason: null,
    promptTokens: params.promptTokens.length,
    completionTokens: 0,
    cachedTokens: 0,
    workerId: null,
    attempts: 0,
    failovers: 0,
    error: null,
  };
  const startedAt = Date.now();
  const attempts = Math.min(options.maxAttempts, options.candidates.length);
  if (attempts === 0) {
    result.error = new UpstreamError("connect", "no worker is available for this model");
    return result;
  }

  let lastProgressMs = startedAt;
  for (let i = 0; i < attempts; i++) {
    const backend = options.candidates[i]!;
    const waitMs = nextAttemptWaitMs({
      nowMs: Date.now(),
      lastProgressMs,
      deadlineMs: options.failoverDeadlineMs,
      firstTokenTimeoutMs: options.firstTokenTimeoutMs,
    });
    // Out of time: end with the last worker's error (a resumed stream keeps what it has).
    if (waitMs === null) break;
    if (i > 0) result.failovers++;
    result.attempts++;
    // A resumed attempt continues the answer: the prompt plus what was already sent, with the
    // remaining token budget. The continuation text follows "ASSISTANT:" directly, so no dummy
    // prefix space is added when encoding it.
    const produced = encodeText(result.text, { leadingSpace: false });
    const attemptParams: CompletionParams = {
      ...params,
      promptTokens: produced.length > 0 ? [...params.promptTokens, ...produced] : params.promptTokens,
      maxTokens: params.maxTokens - result.completionTokens,
    };
    let attemptText = "";
    const endAttempt = hooks.onAttempt?.(backend);
    try {
      for await (const event of streamCompletion(backend, attemptParams, { ...options, firstTokenTimeoutMs: waitMs })) {
        if (event.kind === "text") {
          lastProgressMs = Date.now();
          attemptText += event.text;
          result.timeToFirstTokenMs ??= Date.now() - startedAt;
          result.text += event.text;
          result.workerId = backend.id;
          await hooks.onText(event.text, backend.id);
        } else {
          result.finishReason = event.finishReason;
          result.status = statusOf(event.finishReason);
          result.completionTokens += event.usage?.completionTokens ?? encodeText(attemptText, { leadingSpace: false }).length;
          if (i === 0 || result.cachedTokens === 0) result.cachedTokens = event.usage?.cachedTokens ?? 0;
          result.workerId = backend.id;
          result.error = null;
          hooks.onWorkerOutcome?.(backend, "success");
          return result;
        }
      }
    } catch (err) {
      // What this worker produced before failing was really generated.
      result.completionTokens += encodeText(attemptText, { leadingSpace: false }).length;
      if (options.signal.aborted) {
        result.status = "cancelled";
        result.error = null;
        return result;
      }
      if (!(err instanceof UpstreamError)) {
        // The client went away (onText rejected) or something unexpected happened in the relay.
        result.status = "cancelled";
        result.error = null;
        return result;
      }
      result.error = err;
      // A 4xx is about the request, not the worker: it must not trip the worker's breaker.
      if (err.retryable) hooks.onWorkerOutcome?.(backend, "failure", err);
      if (!err.retryable) return result;
      if (result.completionTokens >= params.maxTokens) {
        result.status = "length";
        result.finishReason = "length";
        result.error = null;
        return result;
      }
    } finally {
      endAttempt?.();
    }
  }
  return result;
}
