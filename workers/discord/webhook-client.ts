/**
 * Discord's interaction webhooks: edit the command's original message, post follow-ups and edit
 * them. A 429 is waited out for its `retry_after` (the body's, else the Retry-After header) and the
 * call repeated, as long as the interaction's token lives; any other failure is thrown.
 */
import { z } from "zod";

/** What a message of ours carries; mentions are never pinged (the asker is named, not notified). */
export interface WebhookMessage {
  content: string;
  components?: unknown[];
  /** 64 = ephemeral (follow-ups only; the original's is fixed by the deferred response). */
  flags?: number;
}

const MessageIdBody = z.looseObject({ id: z.string() });
const RateLimitBody = z.looseObject({ retry_after: z.number().nonnegative() });

/** A webhook call Discord refused (or one that could only land after the token died). */
export class WebhookError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "WebhookError";
  }
}

export interface WebhookClientOptions {
  apiBase: string;
  applicationId: string;
  token: string;
  /** Epoch ms after which the token is dead (Discord: 15 minutes after the interaction). */
  expiresAtMs: number;
  /** Called with each 429 wait (ms), for logs and tests. */
  onRateLimited?: (waitMs: number) => void;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * The job starts as soon as the deferred answer is sent, and may call before Discord has made the
 * "thinking…" message from it: a 404 in this first while means "not yet", and is asked again.
 */
const NOT_YET_GRACE_MS = 5_000;
const NOT_YET_RETRY_MS = 100;

/** One interaction's webhook. */
export class InteractionWebhook {
  readonly #createdAtMs: number;
  readonly #o: Required<Omit<WebhookClientOptions, "onRateLimited">> & Pick<WebhookClientOptions, "onRateLimited">;

  constructor(options: WebhookClientOptions) {
    this.#o = {
      fetch: (input, init) => fetch(input, init),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      now: () => Date.now(),
      ...options,
    };
    this.#createdAtMs = this.#o.now();
  }

  get expiresAtMs(): number {
    return this.#o.expiresAtMs;
  }

  /** The original (deferred) message's id. */
  async getOriginalId(): Promise<string> {
    const url = `${this.#o.apiBase}/webhooks/${this.#o.applicationId}/${this.#o.token}/messages/@original`;
    for (;;) {
      const res = await this.#o.fetch(url);
      if (res.ok) return MessageIdBody.parse(await res.json()).id;
      const text = await res.text().catch(() => "");
      if (await this.#notYet(res.status)) continue;
      if (res.status !== 429) throw new WebhookError(`Discord answered ${res.status} to GET @original: ${text.slice(0, 200)}`, res.status);
      await this.#waitOut(retryAfterMs(text, res.headers.get("retry-after")));
    }
  }

  /** Replaces the original (deferred) message's content and components. */
  async editOriginal(message: WebhookMessage): Promise<string> {
    return this.#send("PATCH", "/messages/@original", message);
  }

  /** Posts a follow-up message; returns its id. */
  async followUp(message: WebhookMessage): Promise<string> {
    return this.#send("POST", "?wait=true", message);
  }

  /** Edits a follow-up message by id. */
  async editFollowUp(messageId: string, message: WebhookMessage): Promise<string> {
    return this.#send("PATCH", `/messages/${encodeURIComponent(messageId)}`, message);
  }

  async #send(method: "PATCH" | "POST", suffix: string, message: WebhookMessage): Promise<string> {
    const url = `${this.#o.apiBase}/webhooks/${this.#o.applicationId}/${this.#o.token}${suffix}`;
    const body = JSON.stringify({ allowed_mentions: { parse: [] }, components: [], ...message });
    for (;;) {
      if (this.#o.now() >= this.#o.expiresAtMs) throw new WebhookError("the interaction token has expired", 401);
      const res = await this.#o.fetch(url, { method, headers: { "content-type": "application/json" }, body });
      if (res.ok) return MessageIdBody.parse(await res.json()).id;
      const text = await res.text().catch(() => "");
      if (await this.#notYet(res.status)) continue;
      if (res.status !== 429) throw new WebhookError(`Discord answered ${res.status} to ${method} ${suffix}: ${text.slice(0, 200)}`, res.status);
      await this.#waitOut(retryAfterMs(text, res.headers.get("retry-after")));
    }
  }

  /** A 404 early in the job (see NOT_YET_GRACE_MS): waits a moment and says to ask again. */
  async #notYet(status: number): Promise<boolean> {
    if (status !== 404 || this.#o.now() - this.#createdAtMs >= NOT_YET_GRACE_MS) return false;
    await this.#o.sleep(NOT_YET_RETRY_MS);
    return true;
  }

  async #waitOut(waitMs: number): Promise<void> {
    if (this.#o.now() + waitMs >= this.#o.expiresAtMs) throw new WebhookError("rate limited past the interaction token's life", 429);
    this.#o.onRateLimited?.(waitMs);
    await this.#o.sleep(waitMs);
  }
}

/** Fallback when a 429 names no wait: one second, Discord's usual bucket reset. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

/** How long a 429 asks to wait: the body's `retry_after` (seconds, fractional), else the header, else a second. */
export function retryAfterMs(bodyText: string, header: string | null): number {
  try {
    const parsed = RateLimitBody.safeParse(JSON.parse(bodyText));
    if (parsed.success) return Math.ceil(parsed.data.retry_after * 1000);
  } catch {
    // Not JSON: fall back to the header.
  }
  const seconds = Number(header);
  return header !== null && Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : DEFAULT_RETRY_AFTER_MS;
}
