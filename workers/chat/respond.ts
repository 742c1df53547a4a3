/**
 * Answers a prepared generation as the client asked: one JSON `chat.completion`, or an SSE stream
 * of chunks. The HTTP status is decided at the first token: a failure before it is an ordinary
 * error response (so SDKs see a typed error and may retry); after it, the stream carries the error.
 * The outcome is persisted after the answer, retried so a D1 hiccup cannot lose a finished reply.
 */
import type { Context } from "hono";
import type { ChatCompletion, Usage } from "../../wire/openai.js";
import type { AppEnv } from "../app-env.js";
import { GatewayError } from "../errors.js";
import type { Backend, CompletionParams } from "../upstream/vllm-client.js";
import type { AdmittedRequest } from "./admission.js";
import { recordGeneration } from "../metrics/recorder.js";
import { ChunkStream } from "./chunk-stream.js";
import { generate, type FailoverPolicy, type GenerationHooks, type GenerationResult } from "./generation.js";

export interface ResponsePlan {
  completionId: string;
  model: string;
  created: number;
  params: CompletionParams;
  candidates: readonly Backend[];
  failover: FailoverPolicy;
  clientStallTimeoutMs: number;
  backendApiKey: string | undefined;
  stream: boolean;
  includeUsage: boolean;
  /** Extra response headers (turn ids, rate-limit headers); the answering worker is added as WORKER_HEADER. */
  headers: Record<string, string>;
  /** Stores the outcome of a generation that produced an answer (or part of one). */
  persist(result: GenerationResult): Promise<void>;
  /**
   * Store before the reply ends (conversation turns: when the client sees the end of an answer,
   * it is stored and the conversation is free for the next turn), or after it (stateless
   * completions, whose only write is the usage ledger).
   */
  persistBeforeReplyEnds: boolean;
  /** Undoes the turn when it fails before any token, so a retry starts clean. */
  rollback(result: GenerationResult): Promise<void>;
  /** The admitted reservation: its headers go on the response, and it is settled when the generation ends. */
  admission: AdmittedRequest;
  /** Pool bookkeeping per attempt (in-flight counts, circuit breaker). */
  poolHooks?: Pick<GenerationHooks, "onAttempt" | "onWorkerOutcome">;
}

/** Names the GPU worker that produced the first token, for operators and tests. */
export const WORKER_HEADER = "x-altiplano-worker";

const PERSIST_ATTEMPTS = 4;
const PERSIST_BACKOFF_MS = 150;

/** Runs `task` until it succeeds or attempts run out, backing off between tries. */
export async function withRetries(task: () => Promise<void>, attempts = PERSIST_ATTEMPTS): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await task();
      return;
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, PERSIST_BACKOFF_MS * 2 ** (i - 1)));
    }
  }
}

export function usageOf(result: GenerationResult): Usage {
  return {
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    total_tokens: result.promptTokens + result.completionTokens,
    prompt_tokens_details: { cached_tokens: result.cachedTokens },
  };
}

/** The client-facing error for a generation that failed before its first token. */
export function generationError(result: GenerationResult): GatewayError {
  const err = result.error;
  if (err && !err.retryable && err.status !== null && err.status >= 400 && err.status < 500) {
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

function logPersistFailure(err: unknown): void {
  console.error("could not store the outcome of a turn", err instanceof Error ? err.message : err);
}

export async function respond(c: Context<AppEnv>, plan: ResponsePlan): Promise<Response> {
  const headers = { ...plan.admission.headers, ...plan.headers };
  let settled: Promise<void> | null = null;
  const settle = (result: GenerationResult | null): Promise<void> => (settled ??= plan.admission.settle(result));
  try {
    return await respondAdmitted(c, plan, headers, settle);
  } finally {
    // A generation settles its reservation when it ends (below). This catches a non-streamed
    // request that threw before that; settling twice is a no-op.
    if (!plan.stream) c.executionCtx.waitUntil(settle(null));
  }
}

async function respondAdmitted(
  c: Context<AppEnv>,
  plan: ResponsePlan,
  headers: Record<string, string>,
  settle: (result: GenerationResult | null) => Promise<void>,
): Promise<Response> {
  const controller = new AbortController();
  const options = {
    ...plan.failover,
    candidates: plan.candidates,
    apiKey: plan.backendApiKey,
    signal: controller.signal,
  };

  if (!plan.stream) {
    const result = await generate(plan.params, options, { ...plan.poolHooks, onText: async () => undefined });
    c.executionCtx.waitUntil(settle(result));
    c.executionCtx.waitUntil(recordGeneration(c.env, plan.model, result));
    if (result.status === "failed" && result.text === "") {
      await withRetries(() => plan.rollback(result)).catch(logPersistFailure);
      throw generationError(result);
    }
    if (plan.persistBeforeReplyEnds) await withRetries(() => plan.persist(result));
    else c.executionCtx.waitUntil(withRetries(() => plan.persist(result)).catch(logPersistFailure));
    if (result.status === "failed") throw generationError(result);
    const body: ChatCompletion = {
      id: plan.completionId,
      object: "chat.completion",
      created: plan.created,
      model: plan.model,
      choices: [{ index: 0, message: { role: "assistant", content: result.text }, finish_reason: result.finishReason ?? "stop", logprobs: null }],
      usage: usageOf(result),
    };
    return c.json(body, 200, { ...headers, ...(result.workerId ? { [WORKER_HEADER]: result.workerId } : {}) });
  }

  const stream = new ChunkStream({ id: plan.completionId, model: plan.model, created: plan.created, includeUsage: plan.includeUsage, clientStallTimeoutMs: plan.clientStallTimeoutMs });
  let started = false;
  // Set inside the onText callback, which TypeScript's narrowing cannot see.
  const first: { workerId: string | null } = { workerId: null };
  let resolveGate!: (value: "started" | GenerationResult) => void;
  const gate = new Promise<"started" | GenerationResult>((resolve) => (resolveGate = resolve));

  const work = generate(plan.params, options, {
    ...plan.poolHooks,
    async onText(delta, workerId) {
      if (!started) {
        started = true;
        first.workerId = workerId;
        resolveGate("started");
        await stream.start();
      }
      try {
        await stream.text(delta);
      } catch (err) {
        controller.abort(err);
        throw err;
      }
    },
  }).then(async (result) => {
    c.executionCtx.waitUntil(settle(result));
    c.executionCtx.waitUntil(recordGeneration(c.env, plan.model, result));
    if (!started) {
      resolveGate(result);
      return;
    }
    const persist = () => withRetries(() => plan.persist(result)).catch(logPersistFailure);
    if (plan.persistBeforeReplyEnds) await persist();
    try {
      if (result.status === "complete" || result.status === "length") await stream.finish(result.finishReason ?? "stop", usageOf(result));
      else if (result.status === "failed") await stream.fail(generationError(result).toBody());
      else stream.abort();
    } catch {
      // The client left while the last frames were written; the reply is stored all the same.
      stream.abort();
    }
    if (!plan.persistBeforeReplyEnds) await persist();
  });
  c.executionCtx.waitUntil(
    work.catch((err: unknown) => {
      console.error("streaming relay failed", err);
      return settle(null);
    }),
  );

  const opened = await gate;
  if (opened !== "started") {
    const result = opened;
    if (result.status === "failed") {
      await withRetries(() => plan.rollback(result)).catch(logPersistFailure);
      throw generationError(result);
    }
    // Finished without a single token (e.g. an immediate stop): still one well-formed stream.
    c.executionCtx.waitUntil(
      (async () => {
        const persist = () => withRetries(() => plan.persist(result)).catch(logPersistFailure);
        if (plan.persistBeforeReplyEnds) await persist();
        await stream.start();
        await stream.finish(result.finishReason ?? "stop", usageOf(result));
        if (!plan.persistBeforeReplyEnds) await persist();
      })().catch(() => stream.abort()),
    );
  }
  return new Response(stream.readable, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      ...headers,
      ...(first.workerId ? { [WORKER_HEADER]: first.workerId } : {}),
    },
  });
}
