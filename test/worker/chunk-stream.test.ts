/**
 * The SSE writer in workerd's own streams: a client that keeps reading gets every frame, one that
 * cancels is noticed at the next write, and one that stops reading without cancelling (what a
 * response pump that died on a broken socket looks like) is given up on after the stall timeout
 * instead of holding the relay forever.
 */
import { describe, expect, it } from "vitest";
import { ChunkStream, ClientStalledError } from "../../workers/chat/chunk-stream.js";

const STALL_MS = 200;

function newStream(): ChunkStream {
  return new ChunkStream({ id: "chatcmpl-test", model: "vicuna-test", created: 0, includeUsage: false, clientStallTimeoutMs: STALL_MS });
}

async function readAll(readable: ReadableStream<Uint8Array>, delayMs: number): Promise<string> {
  const reader = readable.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
    await new Promise((r) => setTimeout(r, delayMs));
  }
}

describe("ChunkStream", () => {
  it("delivers every frame, in order, to a slow reader that keeps reading", async () => {
    const stream = newStream();
    // Each frame takes 5 ms to be read: far slower than the writer, never stalled for 200 ms.
    const received = readAll(stream.readable, 5);
    await stream.start();
    for (let i = 0; i < 100; i++) await stream.text(`t${i} `);
    await stream.finish("stop", { prompt_tokens: 1, completion_tokens: 100, total_tokens: 101 });
    const text = await received;
    const contents = text
      .split("\n\n")
      .filter((f) => f.startsWith("data: {"))
      .map((f) => (JSON.parse(f.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? "");
    expect(contents.join("")).toBe(Array.from({ length: 100 }, (_, i) => `t${i} `).join(""));
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
  });

  it("rejects the next write once the client has cancelled", async () => {
    const stream = newStream();
    await stream.start();
    await stream.readable.cancel("client went away");
    await expect(stream.text("more")).rejects.toThrow();
  });

  it("gives up on a client that stops reading without cancelling, after the stall timeout", async () => {
    const stream = newStream();
    await stream.start();
    // Nobody reads: the queue fills, then a write waits for room that never comes.
    const startedAt = Date.now();
    let error: unknown = null;
    for (let i = 0; i < 1_000 && error === null; i++) {
      await stream.text(`t${i} `).catch((err: unknown) => (error = err));
    }
    expect(error).toBeInstanceOf(ClientStalledError);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(STALL_MS - 5);
    // From then on every write fails at once, so the relay stops and stores what it has.
    await expect(stream.text("late")).rejects.toBeInstanceOf(ClientStalledError);
    stream.abort();
  });
});
