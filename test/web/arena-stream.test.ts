/** The arena page's reader of a battle stream: both slots' events in order across arbitrary network splits, the end, and an error event. */
import { describe, expect, it } from "vitest";
import type { ArenaBattle, ArenaReply, ArenaStreamEvent } from "../../wire/arena.js";
import { readArenaStream } from "../../web/src/api/arena-stream.js";
import { ApiError } from "../../web/src/api/errors.js";

const battle = (status: ArenaBattle["status"] = "open"): ArenaBattle => ({
  id: "bat_1",
  object: "arena.battle",
  status,
  anonymous: true,
  turns: 1,
  created_at: 1_790_000_000,
  a: { model: null, conversation_id: "conv_a" },
  b: { model: null, conversation_id: "conv_b" },
  vote: null,
});

const reply = (content: string, status: ArenaReply["status"] = "complete"): ArenaReply => ({
  message_id: status === "failed" && content === "" ? null : "msg_1",
  content,
  status,
  finish_reason: status === "complete" ? "stop" : null,
  usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
  error: status === "failed" ? { message: "The GPU worker went away.", type: "server_error", param: null, code: "upstream_error" } : null,
});

const event = (e: ArenaStreamEvent): string => `data: ${JSON.stringify(e)}\n\n`;

const EVENTS: ArenaStreamEvent[] = [
  { type: "battle", battle: battle() },
  { type: "delta", slot: "a", content: "Hola, " },
  { type: "delta", slot: "b", content: "Llama " },
  { type: "delta", slot: "a", content: "ñandú 🦙" },
  { type: "delta", slot: "b", content: "talk" },
  { type: "reply", slot: "b", reply: reply("Llama talk") },
  { type: "reply", slot: "a", reply: reply("Hola, ñandú 🦙") },
  { type: "battle", battle: battle() },
];
const STREAM = EVENTS.map(event).join("") + "data: [DONE]\n\n";

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

describe("readArenaStream", () => {
  it.each([1, 2, 5, 13, 100, 100_000])("reads every event of both slots, in order, in pieces of %i bytes", async (size) => {
    const seen: ArenaStreamEvent[] = [];
    const end = await readArenaStream(body(STREAM, size), (e) => seen.push(e));
    expect(seen).toEqual(EVENTS);
    expect(end).toEqual({ done: true });
  });

  it("says when the connection closed before [DONE]", async () => {
    const seen: ArenaStreamEvent[] = [];
    const end = await readArenaStream(body(EVENTS.slice(0, 3).map(event).join(""), 7), (e) => seen.push(e));
    expect(seen).toHaveLength(3);
    expect(end).toEqual({ done: false });
  });

  it("skips events it does not know and lines that are not JSON, and reads on", async () => {
    const odd = `data: {"type":"progress","slot":"a"}\n\ndata: not json\n\n: a comment\n\ndata: {"type":"delta","slot":"c","content":"x"}\n\n`;
    const seen: ArenaStreamEvent[] = [];
    const end = await readArenaStream(body(odd + STREAM, 11), (e) => seen.push(e));
    expect(seen).toEqual(EVENTS);
    expect(end.done).toBe(true);
  });

  it("throws the error event that ends a failed turn, after the events before it", async () => {
    const failing =
      EVENTS.slice(0, 2).map(event).join("") +
      `data: ${JSON.stringify({ error: { message: "The arena has fewer than two models.", type: "server_error", param: null, code: "arena_unavailable" } })}\n\n` +
      event(EVENTS[2]!);
    const seen: ArenaStreamEvent[] = [];
    const error = await readArenaStream(body(failing, 9), (e) => seen.push(e)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ message: "The arena has fewer than two models.", code: "arena_unavailable" });
    expect(seen).toEqual(EVENTS.slice(0, 2));
  });

  it("reads a side's failure as its reply, not as the stream's end", async () => {
    const events: ArenaStreamEvent[] = [
      { type: "battle", battle: battle() },
      { type: "delta", slot: "a", content: "partial" },
      { type: "reply", slot: "b", reply: reply("", "failed") },
      { type: "reply", slot: "a", reply: reply("partial answer") },
      { type: "battle", battle: battle("failed") },
    ];
    const seen: ArenaStreamEvent[] = [];
    const end = await readArenaStream(body(events.map(event).join("") + "data: [DONE]\n\n", 64), (e) => seen.push(e));
    expect(seen).toEqual(events);
    expect(end.done).toBe(true);
  });

  it("stops reading at [DONE]", async () => {
    const seen: ArenaStreamEvent[] = [];
    await readArenaStream(body(STREAM + event(EVENTS[1]!), 100_000), (e) => seen.push(e));
    expect(seen).toEqual(EVENTS);
  });
});
