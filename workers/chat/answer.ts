/**
 * The one generation path. Both routes — stateless `/v1/chat/completions` and a turn of a stored
 * conversation — end here with the same inputs: who asks, the model's runtime, the conversation
 * to answer, the sampling parameters and a store for the outcome. A turn, step by step:
 *
 *   1. admit     the caller's limiters reserve prompt + max_tokens (a stored conversation was
 *                admitted on an estimate before its history was read, see conversation-turn.ts)
 *   2. prepare   the runtime fits the conversation to the window and renders it for its upstream
 *                (a token-id prompt for the GPU pool, messages for a provider)
 *   3. open      the runtime picks where attempts go (routing over the pool, or the provider)
 *   4. respond   generate across attempts, relay as JSON or SSE, store or undo the turn
 *   5. settle    the reservation is settled to real usage when the generation ends
 */
import type { Context } from "hono";
import type { Sampling } from "../../wire/openai.js";
import type { AppEnv } from "../app-env.js";
import { getConfig } from "../config.js";
import type { Owner } from "../db/conversation-store.js";
import type { ModelRuntime } from "../models/runtime.js";
import type { ChatConversation } from "../prompt/index.js";
import { admit, type AdmittedRequest } from "./admission.js";
import { respond, type TurnStore } from "./respond.js";

/** How many of the oldest messages a reply's prompt left out to fit the window (set when > 0). */
export const DROPPED_MESSAGES_HEADER = "x-altiplano-dropped-messages";

export interface Turn {
  owner: Owner;
  runtime: ModelRuntime;
  conversation: ChatConversation;
  sampling: Sampling;
  /** Whether the oldest turns may be dropped to fit the window; otherwise an overflow is a 400. */
  truncate: boolean;
  /** The stored conversation (routing keeps it on the worker holding its KV cache); null if stateless. */
  conversationId: string | null;
  store: TurnStore;
  /** A reservation made before the conversation was read; absent = reserve the exact count here. */
  admission?: AdmittedRequest;
}

export async function answer(c: Context<AppEnv>, turn: Turn): Promise<Response> {
  const config = getConfig(c.env);
  let admission = turn.admission;
  try {
    const prepared = turn.runtime.prepare({ conversation: turn.conversation, sampling: turn.sampling, truncate: turn.truncate });
    admission ??= await admit(c, turn.owner, prepared.promptTokens + prepared.maxTokens, turn.store.usageWithSettlement === true ? turn.runtime.id : null);
    const plan = await prepared.open({
      env: c.env,
      waitUntil: (promise) => c.executionCtx.waitUntil(promise),
      conversationId: turn.conversationId,
      failover: config.failover,
    });
    return await respond(c, {
      completionId: `chatcmpl-${c.var.requestId}`,
      model: turn.runtime.id,
      created: Math.floor(Date.now() / 1000),
      stream: turn.sampling.stream ?? false,
      includeUsage: turn.sampling.stream_options?.include_usage ?? false,
      headers: prepared.droppedMessages > 0 ? { [DROPPED_MESSAGES_HEADER]: String(prepared.droppedMessages) } : {},
      plan,
      failover: config.failover,
      clientStallTimeoutMs: config.clientStallTimeoutMs,
      store: turn.store,
      admission,
      failureError: (result) => turn.runtime.failureError(result),
    });
  } catch (err) {
    // Nothing was generated: the reservation is released (a no-op once the generation settled it).
    if (admission) c.executionCtx.waitUntil(admission.settle(null));
    throw err;
  }
}
