/**
 * Gateway errors as the page meets them, and the sentence it shows for each: never a raw JSON
 * body. A 429 says when to try again (its `retry-after`), no workers says so, 401 sends the
 * visitor back to sign in.
 */
import { ErrorBodySchema } from "./schemas.js";

/** An HTTP error from the gateway (or a failed stream's error event), with its OpenAI fields. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    /** From `retry-after`, whole seconds; null when the response gave none. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** The fetch failed before any response: offline, or the gateway is down. */
export class NetworkError extends Error {
  override readonly name = "NetworkError";
}

const NO_CAPACITY_CODES = new Set(["no_workers", "overloaded", "pool_unavailable", "provider_unavailable"]);

function retryAfterSeconds(headers: Headers): number | null {
  const value = headers.get("retry-after");
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(1, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(1, Math.ceil((date - Date.now()) / 1000));
}

/** The ApiError an error response stands for (its body is read here). */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  let message = `The gateway answered with status ${res.status}.`;
  let code: string | null = null;
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) {
      message = parsed.data.error.message;
      code = parsed.data.error.code ?? null;
    }
  } catch {
    // Not JSON (a proxy's page, say): keep the status sentence rather than show the body.
  }
  return new ApiError(res.status, message, code, retryAfterSeconds(res.headers));
}

/** Whether this error means the browser is no longer signed in. */
export function isSignedOut(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401;
}

/** The sentence to show for an error; `model` names the model a turn was for. */
export function errorWords(err: unknown, context: { model?: string } = {}): string {
  if (err instanceof NetworkError) return "Could not reach the gateway. Check your connection and try again.";
  if (!(err instanceof ApiError)) return "Something unexpected went wrong in this page. Reload it and try again.";
  if (err.status === 401) return "Your session has ended. Sign in again.";
  if (err.status === 429) {
    const when = err.retryAfterSeconds === null ? "in a moment" : `in ${err.retryAfterSeconds} s`;
    return `You have reached a usage limit. Try again ${when}.`;
  }
  if (err.code !== null && NO_CAPACITY_CODES.has(err.code)) {
    return `No GPU workers are available for ${context.model ?? "this model"} right now. Try again in a little while.`;
  }
  if (err.status === 409 && err.code === "conversation_busy") {
    return "This chat is still answering a previous message. Wait a moment, then try again.";
  }
  if (err.status === 403) return `Not allowed: ${err.message}`;
  if (err.status >= 500) return `The gateway could not answer (status ${err.status}): ${err.message}`;
  return err.message;
}
