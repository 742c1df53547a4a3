/**
 * Writes an OpenAI `chat.completion.chunk` SSE stream: a role chunk, content deltas, a final chunk
 * with the finish reason, an optional usage chunk, `data: [DONE]`. An error after the stream has
 * started is sent as an `event: error` frame in the OpenAI error shape, then the stream ends.
 */
import type { ChatCompletionChunk, ErrorBody, FinishReason, Usage } from "../../wire/openai.js";

export interface ChunkStreamMeta {
  id: string;
  model: string;
  created: number;
  includeUsage: boolean;
  /**
   * How long a full queue may wait for the client to take a frame before the client counts as
   * gone. workerd normally cancels the stream when a client disconnects, but when the socket
   * breaks in the middle of a write the response pump dies without cancelling it: the queue then
   * never drains, and without this bound the relay would wait forever, never storing the reply
   * or releasing the conversation.
   */
  clientStallTimeoutMs: number;
}

/** The error a write rejects with once the client stopped taking frames. */
export class ClientStalledError extends Error {
  constructor(ms: number) {
    super(`the client took no data for ${ms} ms`);
    this.name = "ClientStalledError";
  }
}

const encoder = new TextEncoder();
const WRITE_QUEUE_FRAMES = 32;

export class ChunkStream {
  readonly readable: ReadableStream<Uint8Array>;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private closed = false;
  /** Set when a queued write failed: the client has gone away. */
  private failure: Error | null = null;

  constructor(private readonly meta: ChunkStreamMeta) {
    // Room for a few dozen frames, so tokens are queued without a round trip each and the relay
    // only waits when the client really falls behind.
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>(undefined, { highWaterMark: WRITE_QUEUE_FRAMES });
    this.readable = readable;
    this.writer = writable.getWriter();
  }

  private chunk(delta: ChatCompletionChunk["choices"][number]["delta"], finishReason: FinishReason | null): ChatCompletionChunk {
    return {
      id: this.meta.id,
      object: "chat.completion.chunk",
      created: this.meta.created,
      model: this.meta.model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
      ...(this.meta.includeUsage ? { usage: null } : {}),
    };
  }

  /** Queues a frame, waiting only under backpressure; rejects once the client has gone away. */
  private async write(frame: string): Promise<void> {
    if (this.closed) throw new Error("stream already closed");
    if (this.failure) throw this.failure;
    const room = this.writer.desiredSize;
    if (room === null) throw new Error("client disconnected");
    if (room <= 0) await this.waitForRoom();
    this.writer.write(encoder.encode(frame)).catch((err: unknown) => {
      this.failure ??= err instanceof Error ? err : new Error("client disconnected");
    });
  }

  private async waitForRoom(): Promise<void> {
    const ms = this.meta.clientStallTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ClientStalledError(ms)), ms);
    });
    try {
      await Promise.race([this.writer.ready, stalled]);
    } catch (err) {
      this.failure ??= err instanceof Error ? err : new Error("client disconnected");
      throw this.failure;
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
  }

  private data(value: unknown): Promise<void> {
    return this.write(`data: ${JSON.stringify(value)}\n\n`);
  }

  start(): Promise<void> {
    return this.data(this.chunk({ role: "assistant", content: "" }, null));
  }

  text(delta: string): Promise<void> {
    return this.data(this.chunk({ content: delta }, null));
  }

  async finish(finishReason: FinishReason, usage: Usage): Promise<void> {
    await this.data(this.chunk({}, finishReason));
    if (this.meta.includeUsage) {
      await this.data({ id: this.meta.id, object: "chat.completion.chunk", created: this.meta.created, model: this.meta.model, choices: [], usage });
    }
    await this.write("data: [DONE]\n\n");
    await this.close();
  }

  async fail(error: ErrorBody): Promise<void> {
    await this.write(`event: error\ndata: ${JSON.stringify(error)}\n\n`);
    await this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close().catch(() => undefined);
  }

  /** Ends the stream after the client left, without waiting on a reader that is gone. */
  abort(): void {
    this.closed = true;
    this.writer.abort().catch(() => undefined);
  }
}
