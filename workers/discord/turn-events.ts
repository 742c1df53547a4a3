/**
 * Reads a turn's SSE body (OpenAI `chat.completion.chunk` events ending `data: [DONE]`) into text
 * deltas and the finish reason, as the bot process reads it; an error event inside the stream is
 * thrown as a GatewayCallError so it becomes the same words.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { z } from "zod";
import { ErrorBodySchema } from "../../wire/openai.js";
import { GatewayCallError } from "../../discord/gateway-error.js";
import { statusForStreamError } from "../../discord/stream-error-status.js";

export type TurnEvent = { kind: "delta"; text: string } | { kind: "finish"; reason: string };

const ChunkSchema = z.object({
  choices: z.array(z.object({ delta: z.object({ content: z.string().nullish() }).partial().nullish(), finish_reason: z.string().nullish() })).default([]),
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
    if (choice.delta?.content) out.push({ kind: "delta", text: choice.delta.content });
    if (choice.finish_reason) out.push({ kind: "finish", reason: choice.finish_reason });
  }
  return out;
}

/** Yields the events until `[DONE]`; throws if the stream ends without it. */
export async function* readTurnEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<TurnEvent> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (m) => queue.push(m) });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      for (let m = queue.shift(); m; m = queue.shift()) {
        const events = parseEvent(m);
        if (events === "done") return;
        yield* events;
      }
    }
  } finally {
    // Cancelling tells the turn we stopped listening (it stores the partial reply as cancelled).
    await reader.cancel().catch(() => undefined);
  }
  throw new GatewayCallError({ message: "the stream ended before it was complete", status: 502 });
}
