/**
 * The HTTP status an error inside a gateway stream stands for (a stream error has no status of its
 * own), so it can be put into words like any other failed call. Pure.
 */

/** Maps an error that arrived inside a stream (no HTTP status of its own) to the status it stands for. */
export function statusForStreamError(code: string | null, type: string): number {
  if (code === "rate_limit_exceeded" || code === "insufficient_quota" || type === "rate_limit_error") return 429;
  if (code === "no_workers" || code === "overloaded") return 503;
  if (code === "context_length_exceeded") return 413;
  return 502;
}
