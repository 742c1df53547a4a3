/**
 * Reads a streamed turn: OpenAI `chat.completion.chunk` server-sent events, ending with
 * `[DONE]`, or with an `{"error":{…}}` event when the generation fails part-way.
 */
import { createParser } from "eventsource-parser";
import { ApiError } from "./errors.js";
import { ChunkSchema, ErrorBodySchema } from "./schemas.js";

export interface StreamEnd {
  /** The last `finish_reason` seen (`stop`, `length`), or null when the stream ended without one. */
  finishReason: string | null;
}

/** Feeds each text delta of the SSE body to `onDelta`; throws ApiError for an error event. */
export async function readChunkStream(body: ReadableStream<Uint8Array>, onDelta: (text: string) => void): Promise<StreamEnd> {
  let finishReason: string | null = null;
  let failure: ApiError | null = null;
  const parser = createParser({
    onEvent(event) {
      if (event.data === "[DONE]" || failure !== null) return;
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        return;
      }
      const error = ErrorBodySchema.safeParse(json);
      if (error.success) {
        failure = new ApiError(500, error.data.error.message, error.data.error.code ?? null);
        return;
      }
      const chunk = ChunkSchema.safeParse(json);
      if (!chunk.success) return;
      for (const choice of chunk.data.choices) {
        if (choice.delta?.content) onDelta(choice.delta.content);
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    },
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
    if (failure !== null) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  if (failure !== null) throw failure;
  return { finishReason };
}
