/**
 * One chat completion from any OpenAI-compatible endpoint (the gateway, or the judge's), with the
 * retries a long unattended run needs: a 429, a 5xx or a dropped connection is tried again after
 * the server's `Retry-After` when it sends one, else an exponential backoff with jitter; any other
 * status is the caller's error at once.
 */
import { z } from "zod";
import { backoffDelayMs } from "../wire/backoff.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface Endpoint {
  /** Up to and including the version, e.g. https://api.openai.com/v1. */
  baseUrl: string;
  apiKey: string;
}

export interface ChatResult {
  text: string;
  promptTokens: number;
  completionTokens: number;
  /** Attempts made, 1 when the first succeeded. */
  attempts: number;
}

export interface RetryPolicy {
  /** Attempts in all, counting the first. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** A call that takes longer than this is given up and tried again (a judge writing 1,024 tokens takes well under it). */
const CALL_TIMEOUT_MS = 300_000;

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 1_000, maxDelayMs: 60_000 };

export class ChatError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = "ChatError";
  }
}

const Completion = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).nullish(),
});

/** Seconds, or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | null {
  if (header === null || header.trim() === "") return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

export async function chat(
  endpoint: Endpoint,
  body: { model: string; messages: readonly ChatMessage[]; temperature: number; max_tokens?: number },
  options: {
    /** Stops waiting between attempts (the call under way is not cut). */
    signal?: AbortSignal;
    retry?: RetryPolicy;
    onRetry?: (attempt: number, delayMs: number, why: string) => void;
  } = {},
): Promise<ChatResult> {
  const retry = options.retry ?? DEFAULT_RETRY;
  for (let attempt = 1; ; attempt++) {
    let why: string;
    let serverDelay: number | null = null;
    try {
      const res = await fetch(`${endpoint.baseUrl.replace(/\/+$/, "")}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${endpoint.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ ...body, stream: false }),
        // Not the run's stop signal: a call under way finishes and is kept, so a resumed run never asks it again.
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.ok) {
        const parsed = Completion.safeParse(JSON.parse(text));
        if (!parsed.success) throw new ChatError(`the endpoint answered 200 without a chat completion: ${text.slice(0, 200)}`, 200);
        const usage = parsed.data.usage;
        return { text: parsed.data.choices[0]!.message.content ?? "", promptTokens: usage?.prompt_tokens ?? 0, completionTokens: usage?.completion_tokens ?? 0, attempts: attempt };
      }
      if (res.status !== 429 && res.status < 500) throw new ChatError(`${res.status} from ${endpoint.baseUrl}: ${text.slice(0, 300)}`, res.status);
      why = `${res.status}`;
      serverDelay = retryAfterMs(res.headers.get("retry-after"));
    } catch (err) {
      if (err instanceof ChatError || options.signal?.aborted) throw err;
      why = err instanceof Error ? err.message : String(err);
    }
    if (attempt >= retry.maxAttempts) throw new ChatError(`gave up after ${attempt} attempts (last: ${why})`, null);
    const delay = serverDelay ?? backoffDelayMs({ attempt, baseMs: retry.baseDelayMs, maxMs: retry.maxDelayMs, jitter: { random: Math.random(), low: 0.5, high: 1 } });
    options.onRetry?.(attempt, delay, why);
    await sleep(Math.min(delay, retry.maxDelayMs), options.signal);
  }
}
