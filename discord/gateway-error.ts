/**
 * What the bot knows about a failed gateway call: the HTTP status and OpenAI error fields, the
 * retry hints from headers, or that the gateway could not be reached at all.
 */

/** A gateway call that failed; `status` is 0 when no HTTP response arrived (network error). */
export class GatewayCallError extends Error {
  readonly status: number;
  readonly type: string | null;
  readonly code: string | null;
  /** Seconds from the `Retry-After` header, when present. */
  readonly retryAfterSeconds: number | null;
  /** False when the gateway said `x-should-retry: false` (e.g. quota used up). */
  readonly shouldRetry: boolean | null;

  constructor(args: {
    message: string;
    status: number;
    type?: string | null;
    code?: string | null;
    retryAfterSeconds?: number | null;
    shouldRetry?: boolean | null;
    cause?: unknown;
  }) {
    super(args.message, { cause: args.cause });
    this.name = "GatewayCallError";
    this.status = args.status;
    this.type = args.type ?? null;
    this.code = args.code ?? null;
    this.retryAfterSeconds = args.retryAfterSeconds ?? null;
    this.shouldRetry = args.shouldRetry ?? null;
  }
}
