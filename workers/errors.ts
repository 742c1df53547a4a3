/**
 * One error type for the whole gateway. Routes and middleware throw a GatewayError; the app's
 * single onError turns it (or anything else) into the OpenAI error envelope.
 */
import type { ErrorBody } from "../wire/openai.js";

export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 429 | 500 | 502 | 503 | 504;

export interface GatewayErrorOptions {
  status: ErrorStatus;
  message: string;
  /** OpenAI error type, e.g. invalid_request_error, authentication_error. */
  type: string;
  code?: string | null;
  param?: string | null;
  /** Extra response headers (Retry-After, x-ratelimit-*, x-should-retry). */
  headers?: Record<string, string>;
}

export class GatewayError extends Error {
  readonly status: ErrorStatus;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(options: GatewayErrorOptions) {
    super(options.message);
    this.name = "GatewayError";
    this.status = options.status;
    this.type = options.type;
    this.code = options.code ?? null;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400 for a request the client can fix. */
export function invalidRequest(message: string, param: string | null = null, code: string | null = null): GatewayError {
  return new GatewayError({ status: 400, type: "invalid_request_error", message, param, code });
}

export function notFound(message: string, code = "not_found"): GatewayError {
  return new GatewayError({ status: 404, type: "invalid_request_error", message, code });
}

export function unauthorized(message = "Missing or invalid API key. Send `Authorization: Bearer <key>`."): GatewayError {
  return new GatewayError({ status: 401, type: "authentication_error", message, code: "invalid_api_key" });
}

export function forbidden(message: string): GatewayError {
  return new GatewayError({ status: 403, type: "permission_error", message, code: "forbidden" });
}

export function serviceUnavailable(message: string, code: string, retryAfterSeconds?: number): GatewayError {
  return new GatewayError({
    status: 503,
    type: "service_unavailable_error",
    message,
    code,
    headers: retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) },
  });
}

// D1's own failures (the database unreachable, overloaded or reset), as workerd words them, also
// when a query builder wraps them as their `cause`.
const D1_UNAVAILABLE = /^(D1_ERROR|D1_EXEC_ERROR)\b|Network connection lost|D1 DB is overloaded/i;

function isD1Unavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    if (D1_UNAVAILABLE.test(e.message)) return true;
  }
  return false;
}

/**
 * Turns any thrown value into a GatewayError: a D1 outage is a 503 the client may retry (the turn
 * that met it stored nothing: its batch is one transaction); other unknown errors a 500 without
 * internals.
 */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (isD1Unavailable(err)) return serviceUnavailable("The database is temporarily unavailable; the request was not completed. Please retry shortly.", "storage_unavailable", 1);
  return new GatewayError({
    status: 500,
    type: "api_error",
    message: "The gateway hit an internal error; the request was not completed.",
    code: "internal_error",
  });
}
