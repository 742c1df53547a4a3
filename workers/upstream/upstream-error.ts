/**
 * What every upstream (a vLLM worker, an OpenAI-compatible provider) yields and throws, so the
 * one generation loop in workers/chat/generation.ts never asks which kind it holds.
 */
import type { FinishReason } from "../../wire/openai.js";

export type UpstreamEvent =
  | { kind: "text"; text: string }
  | { kind: "end"; finishReason: FinishReason; usage: { promptTokens: number; completionTokens: number; cachedTokens: number } | null };

export type UpstreamFailurePhase = "connect" | "status" | "first-token-timeout" | "stall" | "stream";

/**
 * An upstream failed. `retryable`: another attempt may succeed (a broken worker, a provider's 5xx
 * or 429); otherwise the request itself was refused (`status` 4xx) or the upstream is misconfigured.
 */
export class UpstreamError extends Error {
  constructor(
    readonly phase: UpstreamFailurePhase,
    message: string,
    readonly status: number | null = null,
    readonly retryable = true,
    /** A provider's Retry-After, in seconds. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = "UpstreamError";
  }

  /** The upstream refused the request itself (another attempt would be refused too). */
  get isRequestError(): boolean {
    return !this.retryable && this.status !== null && REQUEST_ERROR_STATUSES.has(this.status);
  }
}

/** Answers that reject the request rather than signal a broken or misconfigured upstream. */
export const REQUEST_ERROR_STATUSES: ReadonlySet<number> = new Set([400, 413, 422]);

/** Parses a Retry-After header given in seconds (the HTTP-date form is rare from APIs and is ignored). */
export function retryAfterSeconds(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header.trim());
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds) : null;
}
