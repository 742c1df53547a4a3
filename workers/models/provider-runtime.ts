/**
 * Provider models: served by an external OpenAI-compatible API. The provider owns its template,
 * so turns go to it as messages; the gateway estimates tokens before the call and takes the
 * provider's usage after it. A provider has no second worker to fail over to: connect errors,
 * 5xx and 429 are tried again after a backoff (or the provider's Retry-After) within the
 * failover deadline, and an answer broken mid-stream ends as failed.
 */
import { GatewayError, invalidRequest, serviceUnavailable } from "../errors.js";
import { estimateTextTokens } from "../chat/admission.js";
import type { AttemptSource, GenerationPlan, GenerationResult } from "../chat/generation.js";
import { getTokenizer } from "../prompt/index.js";
import { streamProviderChat, type ProviderEndpoint } from "../upstream/provider-client.js";
import type { ProviderModelEntry } from "./model-config.js";
import { providerRetryDelayMs } from "./provider-backoff.js";
import { fitProviderMessages } from "./provider-fit.js";
import { requestedMaxTokens, type ModelRuntime, type UpstreamContext } from "./runtime.js";
import { upstreamSampling } from "./sampling.js";

/** Retry-After sent to clients when a provider stays unavailable and gave no hint of its own. */
const DEFAULT_RETRY_AFTER_SECONDS = 2;

export function buildProviderRuntime(entry: ProviderModelEntry): ModelRuntime {
  const tokenizer = entry.tokenizer === undefined ? null : getTokenizer(entry.tokenizer);
  const estimate = (text: string): number => (tokenizer ? tokenizer.encode(text).length : estimateTextTokens(text));
  return {
    id: entry.id,
    ownedBy: `provider:${new URL(entry.baseUrl).hostname}`,
    contextLength: entry.contextLength,
    defaultMaxTokens: entry.defaultMaxTokens,
    arena: entry.arena ?? null,
    isServing: async () => true,
    failureError: (result) => providerFailureError(entry, result),
    prepare({ conversation, sampling, truncate }) {
      const upstream = upstreamSampling(sampling);
      const fit = fitProviderMessages({
        conversation,
        contextLength: entry.contextLength,
        maxTokens: requestedMaxTokens(sampling),
        defaultMaxTokens: entry.defaultMaxTokens,
        truncate,
        countTokens: estimate,
      });
      if (!fit.ok) throw invalidRequest(fit.message, "messages", "context_length_exceeded");
      return {
        promptTokens: fit.promptTokens,
        maxTokens: fit.maxTokens,
        droppedMessages: fit.droppedMessages,
        async open(context: UpstreamContext): Promise<GenerationPlan> {
          const endpoint: ProviderEndpoint = {
            modelId: entry.id,
            baseUrl: entry.baseUrl,
            upstreamModel: entry.upstreamModel ?? entry.id,
            apiKey: providerKey(context, entry),
          };
          const source: AttemptSource = {
            id: `provider:${entry.id}`,
            stream: (input) => streamProviderChat(endpoint, { messages: fit.messages, maxTokens: input.maxTokens, sampling: upstream }, input),
          };
          return {
            // The same provider, once per attempt the failover policy allows.
            sources: Array.from({ length: context.failover.maxAttempts }, () => source),
            promptTokens: fit.promptTokens,
            maxTokens: fit.maxTokens,
            resumable: false,
            continuation: (text) => ({ tokens: null, count: estimate(text) }),
            retryDelayMs: providerRetryDelayMs,
          };
        },
      };
    },
  };
}

/** The provider's key from its secret; a missing secret is the operator's mistake, never the client's. */
function providerKey(context: UpstreamContext, entry: ProviderModelEntry): string {
  const value: unknown = Reflect.get(context.env, entry.apiKeySecret);
  if (typeof value === "string" && value !== "") return value;
  console.error(`provider model '${entry.id}': the secret ${entry.apiKeySecret} is not set`);
  throw serviceUnavailable(`The model '${entry.id}' is not available right now.`, "provider_unavailable", 60);
}

/** The client-facing error for a provider generation that failed. */
export function providerFailureError(entry: ProviderModelEntry, result: GenerationResult): GatewayError {
  const err = result.error;
  if (err?.isRequestError) {
    return new GatewayError({ status: 400, type: "invalid_request_error", message: `The provider rejected the request: ${err.message}`, code: "upstream_rejected" });
  }
  const retryAfter = err?.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
  if (err && !err.retryable) console.error(`provider model '${entry.id}' refused the gateway: ${err.message}`);
  return serviceUnavailable(
    `The provider serving '${entry.id}' could not answer after ${result.attempts} attempt${result.attempts === 1 ? "" : "s"}. Try again in ${retryAfter} s.`,
    "provider_unavailable",
    retryAfter,
  );
}
