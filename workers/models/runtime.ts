/**
 * A model is a runtime: how a conversation becomes what its upstream takes (a token-id prompt the
 * gateway renders for the GPU pool, or messages for a provider that owns its template), and how a
 * generation reaches that upstream. Every route runs one generation path over this interface and
 * never asks which kind of model it holds; adding a kind of upstream is one entry in
 * workers/models/registry.ts.
 */
import type { Sampling } from "../../wire/openai.js";
import type { Env } from "../env.js";
import type { GatewayError } from "../errors.js";
import type { ChatConversation, NewMessageTokens } from "../prompt/index.js";
import type { FailoverPolicy, GenerationPlan, GenerationResult } from "../chat/generation.js";
import type { ArenaEntry } from "./model-config.js";

/** What opening a generation may need from the request around it. */
export interface UpstreamContext {
  env: Env;
  /** Keeps background work (breaker reports) alive past the response. */
  waitUntil(promise: Promise<unknown>): void;
  /** The stored conversation, for routing affinity; null for stateless completions. */
  conversationId: string | null;
  failover: FailoverPolicy;
}

/** A conversation fitted to the model's window and rendered for its upstream. */
export interface PreparedTurn {
  /** Prompt tokens as counted here (a provider's report replaces it after the call). */
  promptTokens: number;
  maxTokens: number;
  /** Oldest messages left out to fit the window (0 unless truncation was allowed). */
  droppedMessages: number;
  /**
   * Token ids computed for messages of a stored conversation that had none (pool models; see
   * ChatConversation.tokens), for the turn to store with them.
   */
  newMessageTokens?: NewMessageTokens[];
  /** Readies the generation: routing for the pool (may throw 503), the attempts for a provider. */
  open(context: UpstreamContext): Promise<GenerationPlan>;
}

export interface PrepareInput {
  conversation: ChatConversation;
  sampling: Sampling;
  /** Whether the oldest turns may be dropped to fit; otherwise an overflow is a 400. */
  truncate: boolean;
}

export interface ModelRuntime {
  id: string;
  /** `GET /v1/models`' owned_by: "gpu-pool", or "provider:<host>". */
  ownedBy: string;
  contextLength: number;
  defaultMaxTokens: number;
  /** Its place in the arena; null when it takes no part. */
  arena: ArenaEntry | null;
  /**
   * Whether it can answer now, as far as the gateway knows without asking: a pool model needs a
   * ready worker serving it; a provider is assumed up (its failures show per request).
   */
  isServing(env: Env, now: number): Promise<boolean>;
  /** Throws a 400 (context_length_exceeded, unsupported parameter) for what it cannot serve. */
  prepare(input: PrepareInput): PreparedTurn;
  /** The client's error for a generation that failed (before its first token, or mid-stream). */
  failureError(result: GenerationResult): GatewayError;
}

/** max_tokens as the client asked for it (either name), null = the model's default. */
export function requestedMaxTokens(sampling: Sampling): number | null {
  return sampling.max_completion_tokens ?? sampling.max_tokens ?? null;
}
