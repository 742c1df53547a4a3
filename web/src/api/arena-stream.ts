/**
 * Reads a streamed arena turn: one SSE stream carrying both sides, each `data:` event an
 * ArenaStreamEvent (wire/arena.ts) — the battle, deltas naming their slot, one reply per slot, the
 * battle again — and then `data: [DONE]`. An `{"error":{…}}` event (the whole turn failed) ends it.
 */
import { createParser } from "eventsource-parser";
import { ArenaStreamEventSchema, type ArenaStreamEvent } from "./arena-schemas.js";
import { ApiError } from "./errors.js";
import { ErrorBodySchema } from "./schemas.js";

export interface ArenaStreamEnd {
  /** The stream ended with `[DONE]`; false when the connection closed before it. */
  done: boolean;
}

/** Feeds every event of the SSE body to `onEvent`, in order; throws ApiError for an error event. */
export async function readArenaStream(body: ReadableStream<Uint8Array>, onEvent: (event: ArenaStreamEvent) => void): Promise<ArenaStreamEnd> {
  let done = false;
  let failure: ApiError | null = null;
  const parser = createParser({
    onEvent(event) {
      if (done || failure !== null) return;
      if (event.data === "[DONE]") {
        done = true;
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        return;
      }
      const parsed = ArenaStreamEventSchema.safeParse(json);
      if (parsed.success) {
        onEvent(parsed.data);
        return;
      }
      const error = ErrorBodySchema.safeParse(json);
      if (error.success) failure = new ApiError(500, error.data.error.message, error.data.error.code ?? null);
      // Anything else (a newer event type) is skipped: the page shows what it knows.
    },
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done: ended, value } = await reader.read();
    if (ended) break;
    parser.feed(decoder.decode(value, { stream: true }));
    if (failure !== null || done) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  if (failure !== null) throw failure;
  return { done };
}
