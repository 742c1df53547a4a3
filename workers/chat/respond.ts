/**
 * Answers a generation as the client asked: one JSON `chat.completion`, or an SSE stream of
 * chunks. The HTTP status is decided at the first token: a failure before it is an ordinary error
 * response (so SDKs see a typed error and may retry) and the turn is undone; after it, the stream
 * carries the error and the partial reply is stored. The outcome is stored with retries, so a D1
 * hiccup cannot lose a finished reply.
 */
import type { Context } from "hono";
import { backoffDelayMs } from "../../wire/backoff.js";
import type { ChatCompletion, Usage } from "../../wire/openai.js";
import type { AppEnv } from "../app-env.js";
import type { GatewayError } from "../errors.js";
import { recordGeneration } from "../metrics/recorder.js";
import type { AdmittedRequest } from "./admission.js";
import { ChunkStream } from "./chunk-stream.js";
import { generate, type FailoverPolicy, type GenerationPlan, type GenerationResult } from "./generation.js";

/** Where a turn's outcome goes: a stored conversation, or only the usage ledger. */
export interface TurnStore {
  /** Response headers naming what was stored (conversation and message ids). */
  headers: Record<string, string>;
  /**
   * Store before the reply ends (conversation turns: when the client sees the end of an answer,
   * it is stored and the conversation is free for the next turn), or after it (stateless
   * completions, whose only write is the usage ledger).
   */
  storeBeforeReplyEnds: boolean;
  /**
   * The usage ledger is written by the limiter with the request's settlement (stateless
   * completions) rather than by `save`/`undo` (conversation turns, whose batch stores it anyway).
   */
  usageWithSettlement?: boolean;
  /** Stores the outcome of a generation that produced an answer (or part of one). */
  save(result: GenerationResult): Promise<void>;
  /**
   * Undoes a turn that produced nothing, so a retry starts clean; `result` is set when it reached
   * an upstream (the ledger counts the failure). Called at most once per turn to do anything.
   */
  undo(result: GenerationResult | null): Promise<void>;
}

export interface Reply {
  completionId: string;
  model: string;
  created: number;
  stream: boolean;
  includeUsage: boolean;
  /** Extra response headers; the answering worker is added as WORKER_HEADER. */
  headers: Record<string, string>;
  plan: GenerationPlan;
  failover: FailoverPolicy;
  clientStallTimeoutMs: number;
  store: TurnStore;
  admission: AdmittedRequest;
  /** The client's error for a failed generation (the model's runtime decides). */
  failureError(result: GenerationResult): GatewayError;
}

/** Names the GPU worker (or provider) that produced the first token, for operators and tests. */
export const WORKER_HEADER = "x-altiplano-worker";

// About 12 s of retries (150 ms doubling, capped at 2 s): a D1 outage of a few seconds must not
// lose a reply the client already has, nor leave its conversation locked for TURN_LOCK_MS
// (bench/results/soak.md, "D1 failing").
const STORE_ATTEMPTS = 10;
const STORE_BACKOFF_MS = 150;
const STORE_BACKOFF_CAP_MS = 2_000;

/** Runs `task` until it succeeds or attempts run out, backing off between tries. */
export async function withRetries(task: () => Promise<void>, attempts = STORE_ATTEMPTS): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await task();
      return;
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, backoffDelayMs({ attempt: i, baseMs: STORE_BACKOFF_MS, maxMs: STORE_BACKOFF_CAP_MS })));
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

function logStoreFailure(err: unknown): void {
  console.error("could not store the outcome of a turn", err instanceof Error ? err.message : err);
}

export async function respond(c: Context<AppEnv>, reply: Reply): Promise<Response> {
  const headers = { ...reply.admission.headers, ...reply.headers, ...reply.store.headers };
  const controller = new AbortController();
  const save = (result: GenerationResult) => withRetries(() => reply.store.save(result));
  const finished = (result: GenerationResult) => {
    c.executionCtx.waitUntil(reply.admission.settle(result));
    c.executionCtx.waitUntil(recordGeneration(c.env, reply.model, result));
  };
  const failBeforeFirstToken = async (result: GenerationResult): Promise<never> => {
    await withRetries(() => reply.store.undo(result)).catch(logStoreFailure);
    throw reply.failureError(result);
  };

  if (!reply.stream) {
    const result = await generate(reply.plan, reply.failover, controller.signal, null);
    finished(result);
    if (result.status === "failed" && result.text === "") return failBeforeFirstToken(result);
    if (reply.store.storeBeforeReplyEnds) await save(result);
    else c.executionCtx.waitUntil(save(result).catch(logStoreFailure));
    if (result.status === "failed") throw reply.failureError(result);
    const body: ChatCompletion = {
      id: reply.completionId,
      object: "chat.completion",
      created: reply.created,
      model: reply.model,
      choices: [{ index: 0, message: { role: "assistant", content: result.text }, finish_reason: result.finishReason ?? "stop", logprobs: null }],
      usage: usageOf(result),
    };
    return c.json(body, 200, { ...headers, ...(result.workerId ? { [WORKER_HEADER]: result.workerId } : {}) });
  }

  const stream = new ChunkStream({ id: reply.completionId, model: reply.model, created: reply.created, includeUsage: reply.includeUsage, clientStallTimeoutMs: reply.clientStallTimeoutMs });
  let started = false;
  // Set inside the onText callback, which TypeScript's narrowing cannot see.
  const first: { workerId: string | null } = { workerId: null };
  let resolveGate!: (value: "started" | GenerationResult) => void;
  const gate = new Promise<"started" | GenerationResult>((resolve) => (resolveGate = resolve));

  // Ends a stream that has started (or one that finished without a token): store, then the last frames.
  const endStream = async (result: GenerationResult): Promise<void> => {
    const store = () => save(result).catch(logStoreFailure);
    if (reply.store.storeBeforeReplyEnds) await store();
    try {
      if (!started) await stream.start();
      if (result.status === "complete" || result.status === "length") await stream.finish(result.finishReason ?? "stop", usageOf(result));
      else if (result.status === "failed") await stream.fail(reply.failureError(result).toBody());
      else stream.abort();
    } catch {
      // The client left while the last frames were written; the reply is stored all the same.
      stream.abort();
    }
    if (!reply.store.storeBeforeReplyEnds) await store();
  };

  const work = generate(reply.plan, reply.failover, controller.signal, async (delta, workerId) => {
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
  }).then(async (result) => {
    finished(result);
    if (started) await endStream(result);
    else resolveGate(result);
  });
  c.executionCtx.waitUntil(
    work.catch((err: unknown) => {
      console.error("streaming relay failed", err);
      return reply.admission.settle(null);
    }),
  );

  const opened = await gate;
  if (opened !== "started") {
    if (opened.status === "failed") return failBeforeFirstToken(opened);
    // Finished without a single token (e.g. an immediate stop): still one well-formed stream.
    c.executionCtx.waitUntil(endStream(opened).catch(() => stream.abort()));
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
