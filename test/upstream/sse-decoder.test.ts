import fc from "fast-check";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { SseDecoder } from "../../workers/upstream/sse-decoder.js";

/** Feeds `pieces` in order and returns every event's data. */
function decode(pieces: readonly string[]): string[] {
  const d = new SseDecoder();
  return pieces.flatMap((p) => d.push(p));
}

describe("SseDecoder", () => {
  it.each<[string, string[], string[]]>([
    ["one event", ["data: a\n\n"], ["a"]],
    ["two events in one piece", ["data: a\n\ndata: b\n\n"], ["a", "b"]],
    ["an event split mid-line", ["da", "ta: {\"x\"", ":1}\n", "\n"], ['{"x":1}']],
    ["an incomplete event is held back", ["data: a\n"], []],
    ["no space after the colon", ["data:a\n\n"], ["a"]],
    ["only the first space is dropped", ["data:  a\n\n"], [" a"]],
    ["multi-line data joined with \\n", ["data: a\ndata: b\n\n"], ["a\nb"]],
    ["CRLF line endings", ["data: a\r\n\r\ndata: b\r\n\r\n"], ["a", "b"]],
    ["CR line endings", ["data: a\r\rdata: b\r\r"], ["a", "b"]],
    ["CRLF split between pieces", ["data: a\r", "\n\r", "\n"], ["a"]],
    ["comments and other fields ignored", [": keep-alive\nevent: x\nid: 3\nretry: 10\ndata: a\n\n"], ["a"]],
    ["a field that only starts with data is ignored", ["database: x\ndata: a\n\n"], ["a"]],
    ["blank lines without data dispatch nothing", ["\n\n\n"], []],
    ["[DONE] is data like any other", ["data: [DONE]\n\n"], ["[DONE]"]],
    ["empty data field", ["data\n\n"], [""]],
  ])("%s", (_name, pieces, expected) => {
    expect(decode(pieces)).toEqual(expected);
  });

  it("agrees with eventsource-parser on any stream cut anywhere", () => {
    const line = fc.oneof(
      fc.string({ unit: fc.constantFrom("a", "b", " ", "{", "}", ":", "é") }).map((s) => `data: ${s}`),
      fc.constant(": comment"),
      fc.constant("event: e"),
      fc.constant(""),
    );
    const ending = fc.constantFrom("\n", "\r\n", "\r");
    fc.assert(
      fc.property(fc.array(fc.tuple(line, ending), { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 8 }), (lines, cuts) => {
        // Ended by a blank line: a stream cut after a lone "\r" is ambiguous (eventsource-parser
        // waits for a possible "\n"; the relay's upstreams always end their last event).
        const text = `${lines.map(([l, e]) => l + e).join("")}\n\n`;
        const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const pieces = [0, ...at, text.length].slice(1).map((end, i, all) => text.slice(i === 0 ? 0 : all[i - 1], end));
        const expected: string[] = [];
        const parser = createParser({ onEvent: (e) => expected.push(e.data) });
        for (const p of pieces) parser.feed(p);
        expect(decode(pieces)).toEqual(expected);
      }),
    );
  });
});
