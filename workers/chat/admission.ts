/**
 * Admission of a generation against the caller's limits (the key's, and its end user's for bot
 * keys), with the token estimate the limits reserve and the charge they settle to.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env.js";
import type { Owner } from "../db/conversation-store.js";
import { usageDay } from "../db/turn-store.js";
import { admitRequest } from "../limits/client.js";
import { effectiveLimits } from "../limits/config.js";
import type { UsageEntry } from "../limits/types.js";
import type { GenerationResult } from "./generation.js";

export interface AdmittedRequest {
  /** x-ratelimit-* headers for the response. */
  headers: Record<string, string>;
  /** Settles the reservation to what the request really used; only the first call counts. */
  settle(result: GenerationResult | null): Promise<void>;
}

/**
 * Tokens a finished request is charged: its prompt plus what was generated. A request that failed
 * before any token was generated is charged nothing.
 */
export function chargedTokens(result: GenerationResult | null): number {
  if (!result) return 0;
  if (result.status === "failed" && result.completionTokens === 0) return 0;
  return result.promptTokens + result.completionTokens;
}

/**
 * A finished request's line in the usage ledger: its tokens as charged, and whether it failed. A
 * request that failed before generating anything counts as a failed request with no tokens.
 */
export function ledgerEntry(owner: Owner, model: string, result: GenerationResult, nowMs: number): UsageEntry {
  return {
    keyId: owner.keyId,
    endUser: owner.endUser,
    model,
    day: usageDay(nowMs),
    // The ledger counts what the limiter charges: a request failed before any token, nothing.
    promptTokens: chargedTokens(result) - result.completionTokens,
    completionTokens: result.completionTokens,
    failed: result.status === "failed",
  };
}

/** Characters per token when the tokenizer is not known yet: about right for English text. */
const CHARS_PER_TOKEN_ESTIMATE = 4;

/** A tokenizer-free estimate of what `text` costs, for admission before the model is known. */
export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN_ESTIMATE);
}

/**
 * Reserves `estimatedTokens` (prompt + max_tokens, or a turn's estimate); throws the 429 (or 503
 * if a limiter is unreachable). With `ledgerModel`, the request's usage goes to the ledger with
 * its settlement (stateless completions, which have no D1 write of their own).
 */
export async function admit(
  c: Context<AppEnv>,
  owner: Owner,
  estimatedTokens: number,
  ledgerModel: string | null = null,
  requestId: string = c.var.requestId,
): Promise<AdmittedRequest> {
  const admission = await admitRequest(c.env, {
    keyId: owner.keyId,
    endUser: owner.endUser === "" ? null : owner.endUser,
    limits: effectiveLimits(c.env, c.var.caller.limits),
    estimatedTokens,
    requestId,
  });
  if (!admission.ok) throw admission.error;
  let settled: Promise<void> | null = null;
  return {
    headers: admission.headers,
    settle: (result) =>
      (settled ??= admission.settle(chargedTokens(result), ledgerModel !== null && result !== null ? ledgerEntry(owner, ledgerModel, result, Date.now()) : undefined)),
  };
}
