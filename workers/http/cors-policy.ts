/**
 * CORS decisions, pure. CORS is off unless CORS_ALLOWED_ORIGINS lists origins: then a browser page
 * from one of them may call the API (preflight answered, response readable); any other origin gets
 * no CORS headers, so the browser keeps the response from the page. The API authenticates with a
 * bearer key, never a cookie, so CORS guards no ambient credential; it only decides which sites'
 * scripts may read responses — hence `*` is allowed, and credentials are never allowed.
 */

/** Allowed origins: a set of exact origins, or any origin. */
export type CorsOrigins = { any: true } | { any: false; origins: ReadonlySet<string> };

export const CORS_ALLOWED_METHODS = "GET, POST, PATCH, DELETE, OPTIONS";
/** Response headers a page may read (rate limits, request and turn ids, the answering worker). */
export const CORS_EXPOSED_HEADERS = [
  "x-request-id",
  "retry-after",
  "x-should-retry",
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-reset-tokens",
  "x-conversation-id",
  "x-user-message-id",
  "x-message-id",
  "x-altiplano-worker",
].join(", ");
export const CORS_MAX_AGE_SECONDS = 600;
/** Headers a preflight may ask for, at most; more is not a real client. */
const MAX_REQUESTED_HEADERS = 64;
const HEADER_TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;

/** Parses CORS_ALLOWED_ORIGINS: comma-separated origins (`https://app.example.com`) or `*`; empty = CORS off (null). */
export function parseAllowedOrigins(text: string | undefined): { ok: true; value: CorsOrigins | null } | { ok: false; message: string } {
  const items = (text ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) return { ok: true, value: null };
  if (items.includes("*")) {
    return items.length === 1 ? { ok: true, value: { any: true } } : { ok: false, message: "`*` cannot be combined with other origins" };
  }
  const origins = new Set<string>();
  for (const item of items) {
    let origin: string;
    try {
      origin = new URL(item).origin;
    } catch {
      return { ok: false, message: `'${item}' is not an origin like https://app.example.com` };
    }
    // An origin is scheme://host[:port] exactly: no path, no trailing slash, no credentials.
    if (origin === "null" || origin !== item.toLowerCase()) {
      return { ok: false, message: `'${item}' is not an origin like https://app.example.com (no path, no trailing slash)` };
    }
    origins.add(origin);
  }
  return { ok: true, value: { any: false, origins } };
}

export interface CorsRequest {
  method: string;
  origin: string | null;
  /** Access-Control-Request-Method, present on a preflight. */
  requestMethod: string | null;
  /** Access-Control-Request-Headers. */
  requestHeaders: string | null;
}

export type CorsDecision =
  /** Nothing to do: CORS is off, or the request is not cross-origin. */
  | { kind: "none" }
  /** A preflight from an allowed origin: answer 204 with these headers. */
  | { kind: "preflight"; headers: Record<string, string> }
  /** A preflight from an origin that is not allowed: answer 403. */
  | { kind: "preflight-denied" }
  /** An actual request: add these headers to whatever the route answers (maybe only Vary). */
  | { kind: "actual"; headers: Record<string, string> };

function allows(policy: CorsOrigins, origin: string): boolean {
  return policy.any || policy.origins.has(origin.toLowerCase());
}

/** Requested headers that are well-formed header names, lower-cased; anything else is dropped. */
function allowedRequestHeaders(text: string | null): string {
  if (!text) return "";
  return text
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter((h) => HEADER_TOKEN.test(h))
    .slice(0, MAX_REQUESTED_HEADERS)
    .join(", ");
}

/** What CORS adds to (or instead of) a request's handling. */
export function decideCors(policy: CorsOrigins | null, req: CorsRequest): CorsDecision {
  if (policy === null || req.origin === null) return { kind: "none" };
  const vary: Record<string, string> = policy.any ? {} : { vary: "Origin" };
  const allowed = allows(policy, req.origin);
  const allowOrigin = policy.any ? "*" : req.origin;
  if (req.method === "OPTIONS" && req.requestMethod !== null) {
    if (!allowed) return { kind: "preflight-denied" };
    const headers: Record<string, string> = {
      ...vary,
      "access-control-allow-origin": allowOrigin,
      "access-control-allow-methods": CORS_ALLOWED_METHODS,
      "access-control-max-age": String(CORS_MAX_AGE_SECONDS),
    };
    const requested = allowedRequestHeaders(req.requestHeaders);
    if (requested) headers["access-control-allow-headers"] = requested;
    return { kind: "preflight", headers };
  }
  if (!allowed) return { kind: "actual", headers: vary };
  return { kind: "actual", headers: { ...vary, "access-control-allow-origin": allowOrigin, "access-control-expose-headers": CORS_EXPOSED_HEADERS } };
}
