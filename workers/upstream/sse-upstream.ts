/**
 * One streamed request to an upstream that answers in server-sent events (vLLM's completions, a
 * provider's chat completions), as an async sequence of text deltas and a final event. Shared by
 * both kinds of upstream: timeouts, stall detection, SSE parsing and failure classification live
 * here once; each client supplies its URL, body and how to read one chunk.
 */
import { z } from "zod";
import type { FinishReason } from "../../wire/openai.js";
import type { ChunkContent } from "./chunk-readers.js";
import { SseDecoder } from "./sse-decoder.js";
import { StallWatch } from "./stall-watch.js";
import { REQUEST_ERROR_STATUSES, retryAfterSeconds, UpstreamError, type UpstreamEvent, type UpstreamFailurePhase } from "./upstream-error.js";

export interface SseTimeouts {
  signal: AbortSignal;
  /** Give up when no first token arrives within this time. */
  firstTokenTimeoutMs: number;
  /**
   * Give up when, after its first token, the upstream sends nothing for this long: one that hangs
   * mid-answer is a mid-stream failure like one that drops the connection. Only time spent waiting
   * on the upstream counts, not time the caller spends relaying a token.
   */
  tokenStallTimeoutMs: number;
  /**
   * Only the whole answer is wanted (a non-streamed reply). After the first token the stream is
   * then read in pieces of at least WHOLE_ANSWER_READ_BYTES instead of one network packet (one
   * token, for vLLM) at a time; the stall timeout then bounds the wait for a piece.
   */
  wholeAnswer?: boolean;
}

/**
 * About 17 vLLM chunks. Reading per token was the relay's largest cost for non-streamed replies
 * (a read, a decode and a parse per packet); at this size a slow but live worker still fills a
 * piece long before TOKEN_STALL_TIMEOUT_MS.
 */
const WHOLE_ANSWER_READ_BYTES = 4_096;

export interface SseRequest {
  /** Names the upstream in errors (never carries a credential). */
  name: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** Reads one JSON chunk; null when it does not have the expected shape. */
  readChunk(json: unknown): ChunkContent | null;
  /** Hides secrets from messages the upstream sends back (a provider may echo part of a key). */
  redact?(text: string): string;
  /**
   * Whether an HTTP status (other than 200) is this upstream's problem, so another attempt may
   * succeed; default: everything but the statuses that reject the request itself.
   */
  isRetryableStatus?(status: number): boolean;
}

const ErrorBody = z.union([
  z.object({ error: z.object({ message: z.string() }) }),
  z.object({ error: z.string() }),
  z.object({ message: z.string() }),
]);

async function upstreamMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    if (parsed.success) {
      const body = parsed.data;
      if ("message" in body) return body.message;
      return typeof body.error === "string" ? body.error : body.error.message;
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 500) || `HTTP ${response.status}`;
}

const defaultRetryable = (status: number): boolean => !REQUEST_ERROR_STATUSES.has(status);

/** Streams one request. Throws UpstreamError for upstream failures; rethrows aborts. */
export async function* streamSse(request: SseRequest, timeouts: SseTimeouts): AsyncGenerator<UpstreamEvent> {
  const redact = request.redact ?? ((text: string) => text);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(timeouts.signal.reason);
  if (timeouts.signal.aborted) onAbort();
  timeouts.signal.addEventListener("abort", onAbort);
  let sawFirstToken = false;
  const stall = new StallWatch(timeouts.tokenStallTimeoutMs, () =>
    controller.abort(new UpstreamError("stall", `${request.name} sent nothing for ${timeouts.tokenStallTimeoutMs} ms mid-answer`)),
  );
  const firstTokenTimer = setTimeout(() => {
    if (!sawFirstToken) controller.abort(new UpstreamError("first-token-timeout", `${request.name} sent no token within ${timeouts.firstTokenTimeoutMs} ms`));
  }, timeouts.firstTokenTimeoutMs);

  const failure = (err: unknown, phase: UpstreamFailurePhase): unknown => {
    if (timeouts.signal.aborted) return timeouts.signal.reason ?? err;
    if (controller.signal.reason instanceof UpstreamError) return controller.signal.reason;
    if (err instanceof UpstreamError) return err;
    return new UpstreamError(phase, `${request.name}: ${redact(err instanceof Error ? err.message : String(err))}`);
  };

  try {
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...request.headers },
        body: JSON.stringify(request.body),
        signal: controller.signal,
      });
    } catch (err) {
      throw failure(err, "connect");
    }
    if (response.status !== 200 || !response.body) {
      const message = redact(await upstreamMessage(response));
      const retryable = (request.isRetryableStatus ?? defaultRetryable)(response.status);
      throw new UpstreamError(
        "status",
        `${request.name} answered ${response.status}: ${message}`,
        response.status,
        retryable,
        retryAfterSeconds(response.headers.get("retry-after")),
      );
    }

    let finishReason: FinishReason | null = null;
    let usage: ChunkContent["usage"] = null;
    let done = false;
    const sse = new SseDecoder();
    const decoder = new TextDecoder();
    // Everything one network read carries is relayed as one delta: a token per frame costs the
    // same per frame however many tokens arrive together, so batching keeps the relay's cost
    // per read rather than per token when the upstream is fast.
    const readTexts = (data: readonly string[]): string => {
      let text = "";
      for (const item of data) {
        if (done) break;
        if (item === "[DONE]") {
          done = true;
          break;
        }
        let json: unknown;
        try {
          json = JSON.parse(item);
        } catch {
          throw new UpstreamError("stream", `${request.name} sent malformed SSE data`);
        }
        const chunk = request.readChunk(json);
        if (!chunk) throw new UpstreamError("stream", `${request.name} sent an unexpected chunk`);
        for (const t of chunk.texts) text += t;
        if (chunk.finishReason) finishReason = chunk.finishReason;
        if (chunk.usage) usage = chunk.usage;
      }
      return text;
    };

    // A BYOB reader takes everything already buffered in one read, so a relay that falls behind
    // (a busy isolate) catches up in one step instead of one read per queued packet, without
    // ever waiting for more than has arrived.
    const reader = response.body.getReader({ mode: "byob" });
    // One buffer, handed back by each read (a BYOB read transfers it) and lent to the next.
    let buffer = new ArrayBuffer(WHOLE_ANSWER_READ_BYTES * 4);
    const nextRead = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
      const view = new Uint8Array(buffer);
      // A whole answer is read in larger pieces once its first token is in. Until then (and
      // always for a relayed stream) a read returns as soon as anything arrives: the first-token
      // timeout must see the first token, and a worker slow to start is not a stalled one.
      const read = timeouts.wholeAnswer === true && sawFirstToken ? await reader.readAtLeast(WHOLE_ANSWER_READ_BYTES, view) : await reader.read(view);
      if (read.value) buffer = read.value.buffer as ArrayBuffer;
      return read;
    };
    let ended = false;
    try {
      while (!done) {
        let read: ReadableStreamReadResult<Uint8Array>;
        if (sawFirstToken) stall.waiting();
        try {
          read = await nextRead();
        } catch (err) {
          throw failure(err, "stream");
        } finally {
          stall.received();
        }
        if (read.done) {
          ended = true;
          break;
        }
        const text = readTexts(sse.push(decoder.decode(read.value, { stream: true })));
        if (text !== "") {
          sawFirstToken = true;
          yield { kind: "text", text };
        }
      }
    } finally {
      // A stream read to its end needs no cancel. After [DONE] the end is normally already in
      // the next read, which lets the runtime reuse the connection (a cancel closes it, and a
      // new connection per request cost about 0.3 ms of the gateway's CPU); anything else left
      // early (an error, an abort) is cancelled so the connection is not held open.
      if (!ended) {
        if (done) void nextRead().then((r) => (r.done ? undefined : reader.cancel())).catch(() => undefined);
        else reader.cancel().catch(() => undefined);
      }
    }
    if (finishReason === null) throw new UpstreamError("stream", `${request.name} ended the stream without a finish reason`);
    yield { kind: "end", finishReason, usage };
  } finally {
    clearTimeout(firstTokenTimer);
    stall.stop();
    timeouts.signal.removeEventListener("abort", onAbort);
  }
}
