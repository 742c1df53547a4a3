/**
 * Failure injection by name. Set at start (`--failure`), at run time with
 * `POST /admin/failure {"mode", "afterTokens"?, "count"?, "durationMs"?}` or the programmatic
 * handle's `setFailure`; cleared with `DELETE /admin/failure` or `setFailure(null)`.
 *
 * Modes, as a client sees them:
 * - `refuse`: the listening socket closes, so new connections get ECONNREFUSED (idle keep-alive
 *   connections are closed too; requests already running finish). Reopens on the same port when
 *   cleared or after `durationMs`. While refusing, admin is reachable through the programmatic
 *   handle or the optional `--admin-port` listener. `count` does not apply.
 * - `http-500` / `http-503`: generation requests get vLLM-shaped error bodies with that status.
 * - `hang`: a streaming request gets 200 and SSE headers, a non-streaming one nothing; no token
 *   ever follows, until the client gives up or the simulator stops.
 * - `close-after`: the socket is destroyed after `afterTokens` (default 1) streamed tokens; a
 *   non-streaming request gets no response at all.
 * - `stall-after`: after `afterTokens` (default 1) streamed tokens nothing more is sent, but the
 *   connection stays open, as from a worker whose GPU hung mid-answer; a non-streaming request
 *   gets nothing.
 * - `malformed-sse`: after `afterTokens` (default 1) token chunks, one `data:` line carries
 *   truncated JSON; the stream then goes on normally. A non-streaming request gets a truncated
 *   JSON body.
 * Only generation endpoints (/v1/completions, /v1/chat/completions) are affected; `count`
 * (default: unlimited) is how many of them are, after which the failure clears itself.
 */
import { z } from "zod";
import { FAILURE_MODES, type FailureMode } from "./config.js";

export const DEFAULT_FAILURE_AFTER_TOKENS = 1;

export const FailureSpecSchema = z
  .object({
    mode: z.enum(FAILURE_MODES),
    afterTokens: z.number().int().min(0).optional(),
    count: z.number().int().min(1).optional(),
    durationMs: z.number().int().min(1).optional(),
  })
  .strict();

/** A failure to inject, as POST /admin/failure takes it. */
export type FailureSpec = z.infer<typeof FailureSpecSchema>;

/** A request-level failure to apply to one generation request. */
export interface RequestFailure {
  mode: Exclude<FailureMode, "refuse">;
  afterTokens: number;
}

/** Current failure and how many more requests it may affect. */
export class FailureState {
  private spec: FailureSpec | null = null;
  private remaining = Number.POSITIVE_INFINITY;

  /** Replaces the current failure (null clears it). */
  set(spec: FailureSpec | null): void {
    this.spec = spec;
    this.remaining = spec?.count ?? Number.POSITIVE_INFINITY;
  }

  current(): FailureSpec | null {
    return this.spec;
  }

  isRefusing(): boolean {
    return this.spec?.mode === "refuse";
  }

  /** The failure this generation request suffers, if any; counts it against `count`. */
  takeForRequest(): RequestFailure | null {
    const spec = this.spec;
    if (spec === null || spec.mode === "refuse") return null;
    this.remaining--;
    if (this.remaining <= 0) this.set(null);
    return { mode: spec.mode, afterTokens: spec.afterTokens ?? DEFAULT_FAILURE_AFTER_TOKENS };
  }
}
