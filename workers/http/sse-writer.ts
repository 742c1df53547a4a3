/**
 * The server side of a Server-Sent Events response: frames are queued without a round trip each,
 * the writer waits only when the client falls behind, and a client that takes nothing for
 * `clientStallTimeoutMs` counts as gone. workerd normally cancels the stream when a client
 * disconnects, but when the socket breaks in the middle of a write the response pump dies without
 * cancelling it: the queue then never drains, and without this bound a relay would wait forever,
 * never storing its reply or releasing its conversation. Chat completion chunks
 * (workers/chat/chunk-stream.ts) and arena battles (workers/arena/battle-turn.ts) both write
 * through it.
 */

/** The error a write rejects with once the client stopped taking frames. */
export class ClientStalledError extends Error {
  constructor(ms: number) {
    super(`the client took no data for ${ms} ms`);
    this.name = "ClientStalledError";
  }
}

const encoder = new TextEncoder();
const WRITE_QUEUE_FRAMES = 32;

export class SseWriter {
  readonly readable: ReadableStream<Uint8Array>;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private closed = false;
  /** Set when a queued write failed: the client has gone away. */
  private failure: Error | null = null;

  constructor(private readonly clientStallTimeoutMs: number) {
    // Room for a few dozen frames, so tokens are queued without a round trip each and the relay
    // only waits when the client really falls behind.
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>(undefined, { highWaterMark: WRITE_QUEUE_FRAMES });
    this.readable = readable;
    this.writer = writable.getWriter();
  }

  /** Queues a frame, waiting only under backpressure; rejects once the client has gone away. */
  async write(frame: string): Promise<void> {
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
    const ms = this.clientStallTimeoutMs;
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

  data(value: unknown): Promise<void> {
    return this.write(`data: ${JSON.stringify(value)}\n\n`);
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
