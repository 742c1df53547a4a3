/** The page's reader of streamed turns: text deltas across arbitrary network splits, the finish reason, and an error event. */
import { describe, expect, it } from "vitest";
import { ApiError } from "../../web/src/api/errors.js";
import { readChunkStream } from "../../web/src/api/stream.js";

const chunk = (content: string | null, finish: string | null = null): string =>
  `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }] })}\n\n`;

/** A body delivering `text` in pieces of `size` bytes (multi-byte characters split too). */
function body(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

const STREAM = chunk("") + chunk("Hola, ") + chunk("llama 🦙") + chunk(" ñandú") + chunk(null, "stop") + "data: [DONE]\n\n";

describe("readChunkStream", () => {
  it.each([1, 3, 7, 64, 10_000])("reads the deltas in pieces of %i bytes", async (size) => {
    const deltas: string[] = [];
    const end = await readChunkStream(body(STREAM, size), (d) => deltas.push(d));
    expect(deltas.join("")).toBe("Hola, llama 🦙 ñandú");
    expect(end).toEqual({ finishReason: "stop" });
  });

  it("reports a cut-off reply's finish reason", async () => {
    const end = await readChunkStream(body(chunk("abc") + chunk(null, "length") + "data: [DONE]\n\n", 5), () => undefined);
    expect(end.finishReason).toBe("length");
  });

  it("throws the error event of a stream that fails part-way, after the text before it", async () => {
    const failing = chunk("partial") + `data: ${JSON.stringify({ error: { message: "The GPU worker went away.", type: "server_error", code: "upstream_error", param: null } })}\n\n` + chunk("never");
    const deltas: string[] = [];
    const error = await readChunkStream(body(failing, 9), (d) => deltas.push(d)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ message: "The GPU worker went away.", code: "upstream_error" });
    expect(deltas).toEqual(["partial"]);
  });

  it("ends without a finish reason when the stream just stops", async () => {
    expect(await readChunkStream(body(chunk("abc"), 4), () => undefined)).toEqual({ finishReason: null });
  });
});
