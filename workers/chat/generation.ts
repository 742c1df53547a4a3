/**
 * One generation across attempts, whatever serves the model. The upstream (workers/models/)
 * supplies the attempts in order — GPU workers chosen by routing, or one provider tried again
 * after a backoff — and says whether an answer broken mid-stream may be continued by the next
 * attempt (a pool model: from the prompt plus the text already sent, so the caller sees one
 * stream) or must end as failed (a provider: its continuation is not ours to splice).
 * Usage counts what was really generated.
 */
import type { MessageStatus } from "../../wire/conversations.js";
import type { FinishReason } from "../../wire/openai.js";
import { UpstreamError, type UpstreamEvent } from "../upstream/upstream-error.js";
import { nextAttemptWaitMs } from "./failover-budget.js";

/** When a generation gives up on an attempt, and on failing over (configured in workers/config.ts). */
export interface FailoverPolicy {
  /** Attempts made, counting the first. */
  maxAttempts: number;
  /** The longest one attempt is given for its first token. */
  firstTokenTimeoutMs: number;
  /** The longest the client goes without a token while attempts are made (see failover-budget.ts). */
  failoverDeadlineMs: number;
  /** An upstream silent this long after its first token is a mid-stream failure. */
  tokenStallTimeoutMs: number;
}

/** Text already produced, as the next attempt continues it. */
export interface Continuation {
  /** Token ids of the text (pool models append them to the prompt); null where nothing is resumed. */
  tokens: readonly number[] | null;
  /** Completion tokens the text counts for. */
  count: number;
}

/** What one attempt gets: where it may resume, its remaining budget, and its deadlines. */
export interface AttemptInput {
  continuation: Continuation | null;
  maxTokens: number;
  signal: AbortSignal;
  firstTokenTimeoutMs: number;
  tokenStallTimeoutMs: number;
  /**
   * The caller wants the whole answer, not its deltas as they come (a non-streamed reply): the
   * upstream may be read in larger pieces once its first token has arrived.
   */
  wholeAnswer: boolean;
}

/** One place an attempt can go: a GPU worker, or the provider. */
export interface AttemptSource {
  /** Named in the x-altiplano-worker header and stored with the reply. */
  id: string;
  /** Streams one attempt. Throws UpstreamError for upstream failures; rethrows aborts. */
  stream(input: AttemptInput): AsyncGenerator<UpstreamEvent>;
}

/** How an attempt ended: `aborted` = the client left, which says nothing about the upstream. */
export type AttemptEnd = (outcome: "success" | "failure" | "aborted", error?: UpstreamError) => void;

/** A generation ready to run, built by the model's upstream. */
export interface GenerationPlan {
  /** Attempts in order; at most policy.maxAttempts are made. */
  sources: readonly AttemptSource[];
  /** Prompt tokens as counted before the call (an upstream's usage report replaces it). */
  promptTokens: number;
  maxTokens: number;
  /** Whether an attempt broken after its first token is continued by the next one. */
  resumable: boolean;
  /** Counts (and for resumable upstreams encodes) the text produced so far; called once per failover. */
  continuation(text: string): Continuation;
  /** Milliseconds to wait before the next attempt after `error` (a provider's backoff or Retry-After). */
  retryDelayMs(error: UpstreamError, attempt: number): number;
  /** Told when an attempt starts; the returned function gets its outcome (circuit breakers, in-flight counts). */
  onAttempt?(source: AttemptSource): AttemptEnd;
}

export interface GenerationResult {
  text: string;
  status: MessageStatus;
  finishReason: FinishReason | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  /** The source that produced the answer (the last one to send text). */
  workerId: string | null;
  attempts: number;
  failovers: number;
  /** Set when status is `failed`: the last upstream error. */
  error: UpstreamError | null;
  /** Milliseconds from the start of `generate` to the first text; absent if none arrived (the TTFT metric). */
  timeToFirstTokenMs?: number;
}

function statusOf(reason: FinishReason): MessageStatus {
  return reason === "length" ? "length" : "complete";
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });

/**
 * Runs the generation; never throws for upstream failures (they end in status `failed`).
 * `onText` gets each delta and the source that produced it; a rejection means the client is gone.
 * Without `onText` only the whole answer is wanted.
 */
export async function generate(
  plan: GenerationPlan,
  policy: FailoverPolicy,
  signal: AbortSignal,
  onText: ((delta: string, sourceId: string) => Promise<void>) | null,
): Promise<GenerationResult> {
  const result: GenerationResult = {
    text: "",
    status: "failed",
    finishReason: null,
    promptTokens: plan.promptTokens,
    completionTokens: 0,
    cachedTokens: 0,
    workerId: null,
    attempts: 0,
    failovers: 0,
    error: null,
  };
  const startedAt = Date.now();
  const attempts = Math.min(policy.maxAttempts, plan.sources.length);
  if (attempts === 0) {
    result.error = new UpstreamError("connect", "nothing is available to serve this model");
    return result;
  }

  let lastProgressMs = startedAt;
  // The text sent before the current attempt, as the attempt continues it.
  let continuation: Continuation | null = null;
  for (let i = 0; i < attempts; i++) {
    if (i > 0 && result.error) {
      // A wait that would outlast the deadline ends the generation now, with this error's Retry-After.
      const delayMs = plan.retryDelayMs(result.error, i);
      if (delayMs >= policy.failoverDeadlineMs - (Date.now() - lastProgressMs)) break;
      await sleep(delayMs, signal);
    }
    if (signal.aborted) return cancelled(result, plan);
    const waitMs = nextAttemptWaitMs({
      nowMs: Date.now(),
      lastProgressMs,
      deadlineMs: policy.failoverDeadlineMs,
      firstTokenTimeoutMs: policy.firstTokenTimeoutMs,
    });
    // Out of time: end with the last error (a resumed stream keeps what it has).
    if (waitMs === null) break;
    const source = plan.sources[i]!;
    if (i > 0) result.failovers++;
    result.attempts++;
    const before = continuation?.count ?? 0;
    let attemptText = "";
    const endAttempt = plan.onAttempt?.(source);
    try {
      const events = source.stream({
        continuation,
        maxTokens: plan.maxTokens - before,
        signal,
        firstTokenTimeoutMs: waitMs,
        tokenStallTimeoutMs: policy.tokenStallTimeoutMs,
        wholeAnswer: onText === null,
      });
      for await (const event of events) {
        if (event.kind === "text") {
          lastProgressMs = Date.now();
          attemptText += event.text;
          result.timeToFirstTokenMs ??= Date.now() - startedAt;
          result.text += event.text;
          result.workerId = source.id;
          if (onText) await onText(event.text, source.id);
        } else {
          result.finishReason = event.finishReason;
          result.status = statusOf(event.finishReason);
          result.completionTokens = before + (event.usage?.completionTokens ?? plan.continuation(attemptText).count);
          // An upstream's own count of the prompt wins over ours (a provider's template is its own).
          if (event.usage && continuation === null) result.promptTokens = event.usage.promptTokens;
          if (continuation === null || result.cachedTokens === 0) result.cachedTokens = event.usage?.cachedTokens ?? 0;
          result.workerId = source.id;
          result.error = null;
          endAttempt?.("success");
          return result;
        }
      }
      throw new UpstreamError("stream", `${source.id} ended the stream without a finish reason`);
    } catch (err) {
      if (signal.aborted || !(err instanceof UpstreamError)) {
        // The client went away (onText rejected) or the relay itself failed.
        endAttempt?.("aborted");
        return cancelled(result, plan);
      }
      result.error = err;
      endAttempt?.("failure", err);
      if (!err.retryable) return withCount(result, plan);
      if (attemptText !== "") {
        if (!plan.resumable) return withCount(result, plan);
        // One encoding per failover: what was sent so far becomes the next prompt's tail.
        continuation = plan.continuation(result.text);
        result.completionTokens = continuation.count;
        if (result.completionTokens >= plan.maxTokens) {
          result.status = "length";
          result.finishReason = "length";
          result.error = null;
          return result;
        }
      }
    }
  }
  return withCount(result, plan);
}

/** A failed result counts every token that was really generated. */
function withCount(result: GenerationResult, plan: GenerationPlan): GenerationResult {
  result.status = "failed";
  result.completionTokens = result.text === "" ? 0 : plan.continuation(result.text).count;
  return result;
}

function cancelled(result: GenerationResult, plan: GenerationPlan): GenerationResult {
  result.status = "cancelled";
  result.error = null;
  result.completionTokens = result.text === "" ? 0 : plan.continuation(result.text).count;
  return result;
}
