/**
 * Reads a turn's SSE body (OpenAI `chat.completion.chunk` events ending `data: [DONE]`) into text
 * deltas. An error event inside the stream becomes a thrown GatewayCallError.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { z } from "zod";
import { ErrorBodySchema } from "../wire/openai.js";
import { GatewayCallError } from "../discord/gateway-error.js";
import { statusForStreamError } from "../discord/stream-error-status.js";

/** One thing a turn stream says. */
export type TurnEvent = { kind: "delta"; text: string } | { kind: "finish"; reason: string };

const ChunkSchema = z.object({
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish() }).partial().nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .default([]),
});

function parseEvent(message: EventSourceMessage): TurnEvent[] | "done" {
  if (message.data === "[DONE]") return "done";
  let json: unknown;
  try {
    json = JSON.parse(message.data);
  } catch (cause) {
    throw new GatewayCallError({ message: "malformed stream event", status: 502, cause });
  }
  const err = ErrorBodySchema.safeParse(json);
  if (err.success) {
    const { message: msg, type, code } = err.data.error;
    throw new GatewayCallError({ message: msg, status: statusForStreamError(code, type), type, code });
  }
  const chunk = ChunkSchema.safeParse(json);
  if (!chunk.success) throw new GatewayCallError({ message: "unexpected stream event", status: 502 });
  const out: TurnEvent[] = [];
  for (const choice of chunk.data.choices) {
    const text = choice.delta?.content;
    if (text) out.push({ kind: "delta", text });
    if (choice.finish_reason) out.push({ kind: "finish", reason: choice.finish_reason });
  }
  return out;
}

/** Yields the events of a turn's SSE body until `[DONE]`; throws if the stream ends without it. */
export async function* readTurnStream(body: ReadableStream<Uint8Array>): AsyncGenerator<TurnEvent> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (m) => queue.push(m) });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (cause) {
        // The connection broke mid-reply (or our own abort, which the caller recognises first).
        throw new GatewayCallError({ message: "connection to the gateway lost mid-reply", status: 0, code: "connection_lost", cause });
      }
      const { value, done } = chunk;
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      while (queue.length > 0) {
        const message = queue.shift();
        if (!message) continue;
        const events = parseEvent(message);
        if (events === "done") return;
        yield* events;
      }
    }
  } finally {
    reader.releaseLock();
    // Cancelling the body tells the gateway we stopped listening (it stores the partial reply).
    await body.cancel().catch(() => undefined);
  }
  throw new GatewayCallError({ message: "the stream ended before it was complete", status: 502 });
}
