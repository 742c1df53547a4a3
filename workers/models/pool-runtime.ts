/**
 * Pool models: served by the GPU workers under vLLM. The gateway renders the model's prompt
 * family itself and sends token ids, so counts are exact, user text cannot forge a turn, and an
 * answer broken mid-stream continues on another worker from the prompt plus the text already sent.
 */
import { GatewayError, invalidRequest } from "../errors.js";
import type { AttemptEnd, AttemptSource, GenerationPlan, GenerationResult } from "../chat/generation.js";
import { beginRequest, getWorkerViews, reportWorkerFailure, reportWorkerSuccess } from "../pool/snapshot-cache.js";
import { encodeContinuation, fitToContext, prefixHash, type PromptRuntime } from "../prompt/index.js";
import { chooseCandidates } from "../upstream/candidates.js";
import { streamCompletion } from "../upstream/vllm-client.js";
import type { PoolModelEntry } from "./model-config.js";
import { requestedMaxTokens, type ModelRuntime, type UpstreamContext } from "./runtime.js";
import { upstreamSampling } from "./sampling.js";

export function buildPoolRuntime(entry: PoolModelEntry, prompt: PromptRuntime): ModelRuntime {
  return {
    id: entry.id,
    ownedBy: "gpu-pool",
    contextLength: entry.contextLength,
    defaultMaxTokens: entry.defaultMaxTokens,
    arena: entry.arena ?? null,
    async isServing(env, now) {
      const workers = await getWorkerViews(env, now);
      return workers.some((w) => w.state === "ready" && w.cooldownUntil <= now && w.models.includes(entry.id));
    },
    failureError: poolFailureError,
    prepare({ conversation, sampling, truncate }) {
      const upstream = upstreamSampling(sampling);
      const fit = fitToContext({
        runtime: prompt,
        conversation,
        contextLength: entry.contextLength,
        maxTokens: requestedMaxTokens(sampling),
        defaultMaxTokens: entry.defaultMaxTokens,
        truncate,
      });
      if (!fit.ok) throw invalidRequest(fit.message, "messages", fit.code);
      const { tokens, maxTokens } = fit;
      return {
        promptTokens: fit.promptTokens,
        maxTokens,
        droppedMessages: fit.droppedMessages,
        newMessageTokens: fit.newTokens,
        async open(context: UpstreamContext): Promise<GenerationPlan> {
          const candidates = await chooseCandidates(context.env, {
            model: entry.id,
            conversationId: context.conversationId,
            prefixHash: prefixHash(tokens) || null,
          });
          const apiKey = context.env.BACKEND_API_KEY;
          const sources = candidates.map((backend): AttemptSource => ({
            id: backend.id,
            stream: (input) =>
              streamCompletion(
                backend,
                {
                  model: entry.id,
                  promptTokens: input.continuation?.tokens ? [...tokens, ...input.continuation.tokens] : tokens,
                  maxTokens: input.maxTokens,
                  sampling: upstream,
                },
                { ...input, apiKey },
              ),
          }));
          return {
            sources,
            promptTokens: fit.promptTokens,
            maxTokens,
            resumable: true,
            continuation(text) {
              const ids = encodeContinuation(prompt, text);
              return { tokens: ids, count: ids.length };
            },
            retryDelayMs: () => 0,
            onAttempt: (source) => trackAttempt(context, source.id),
          };
        },
      };
    },
  };
}

/**
 * Keeps the pool informed of one attempt: in-flight counts for this isolate's routing, and the
 * outcome for the pool's shared circuit breaker (reported in the background so it never delays
 * the answer). A refused request is about the request, not the worker: it never trips the breaker.
 */
function trackAttempt(context: UpstreamContext, workerId: string): AttemptEnd {
  const end = beginRequest(workerId);
  return (outcome, error) => {
    end();
    let report: Promise<unknown> | null = null;
    if (outcome === "success") report = reportWorkerSuccess(context.env, workerId);
    else if (outcome === "failure" && error?.retryable) report = reportWorkerFailure(context.env, workerId);
    if (report) context.waitUntil(report.catch((err: unknown) => console.error("could not report a worker outcome to the pool", err)));
  };
}

/** The client-facing error for a pool generation that failed. */
export function poolFailureError(result: GenerationResult): GatewayError {
  const err = result.error;
  if (err?.isRequestError) {
    return new GatewayError({ status: 400, type: "invalid_request_error", message: `The model server rejected the request: ${err.message}`, code: "upstream_rejected" });
  }
  return new GatewayError({
    status: 503,
    type: "service_unavailable_error",
    message: `No GPU worker could answer after ${result.attempts} attempt${result.attempts === 1 ? "" : "s"}. Try again shortly.`,
    code: "workers_unavailable",
    headers: { "retry-after": "2" },
  });
}
