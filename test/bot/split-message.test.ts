import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openFenceAtEnd, splitMessage, splitMessageParts } from "../../discord/split-message.js";

const para = (n: number, ch = "a") => `${ch.repeat(n - 1)}.`;

describe("splitMessage: tables", () => {
  const cases: Array<{ name: string; text: string; max?: number; expect: string[] }> = [
    { name: "empty text gives no messages", text: "", expect: [] },
    { name: "short text is one message", text: "hello\nworld", expect: ["hello\nworld"] },
    {
      name: "splits at the paragraph boundary, not the later line boundary",
      text: `${para(1200)}\n\n${para(500)}\n${para(600)}`,
      expect: [`${para(1200)}\n\n`, `${para(500)}\n${para(600)}`],
    },
    {
      name: "a code block that does not fit moves whole to the next message",
      text: `${para(1500)}\nintro\n\`\`\`py\n${"x = 1\n".repeat(100)}\`\`\`\nafter`,
      expect: [`${para(1500)}\nintro\n`, `\`\`\`py\n${"x = 1\n".repeat(100)}\`\`\`\nafter`],
    },
    {
      name: "a code block longer than a message is closed and reopened with its language",
      text: `\`\`\`ts\n${"const a = 1;\n".repeat(200)}\`\`\``,
      expect: [
        `\`\`\`ts\n${"const a = 1;\n".repeat(153)}\`\`\``,
        `\`\`\`ts\n${"const a = 1;\n".repeat(47)}\`\`\``,
      ],
    },
    {
      name: "an unclosed fence at the end is closed (a reply still being written)",
      text: "look:\n```js\nlet x",
      expect: ["look:\n```js\nlet x\n```"],
    },
    {
      name: "one long line without spaces is cut at the limit",
      text: "z".repeat(4500),
      expect: ["z".repeat(2000), "z".repeat(2000), "z".repeat(500)],
    },
    {
      name: "one long line with spaces is cut after a space",
      text: `${"word ".repeat(500)}`,
      expect: ["word ".repeat(400), "word ".repeat(100)],
    },
    {
      name: "tilde fences are reopened with tildes",
      text: `~~~\n${"t\n".repeat(1100)}~~~`,
      expect: [`~~~\n${"t\n".repeat(996)}~~~`, `~~~\n${"t\n".repeat(104)}~~~`],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = splitMessage(c.text, c.max);
      expect(got).toEqual(c.expect);
    });
  }

  it("rejects a limit too small to hold reopened fences", () => {
    expect(() => splitMessage("x", 100)).toThrow(/at least/);
  });
});

/** Text built from lines typical of model replies: prose, lists, blank lines, fences, long lines. */
const replyLine = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 120 }).map((s) => s.replace(/\n/g, " ")) },
  { weight: 2, arbitrary: fc.constant("") },
  { weight: 1, arbitrary: fc.constantFrom("```", "```python", "```ts extra", "~~~", "````md", "   ```", "``` `x`") },
  { weight: 1, arbitrary: fc.string({ minLength: 300, maxLength: 3000 }).map((s) => s.replace(/\n/g, " ")) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 80 }).map((s) => s.replace(/\n/g, " ")) },
);
const replyText = fc.array(replyLine, { maxLength: 80 }).map((lines) => lines.join("\n"));
const maxChars = fc.integer({ min: 1000, max: 2000 });

describe("splitMessage: properties", () => {
  it("every message fits, bodies concatenate to the original, fences balance in each message", () => {
    fc.assert(
      fc.property(replyText, maxChars, (text, max) => {
        const parts = splitMessageParts(text, max);
        expect(parts.map((p) => p.body).join("")).toBe(text);
        for (const p of parts) {
          const msg = p.reopen + p.body + p.close;
          expect(msg.length).toBeLessThanOrEqual(max);
          expect(p.body.length).toBeGreaterThan(0);
          expect(openFenceAtEnd(msg)).toBeNull();
        }
      }),
      { numRuns: 300 },
    );
  });

  it("added fence lines appear only where a code block crosses a split", () => {
    fc.assert(
      fc.property(replyText, maxChars, (text, max) => {
        const parts = splitMessageParts(text, max);
        parts.forEach((p, i) => {
          const prev = parts[i - 1];
          // A message reopens a fence exactly when the text before it left one open.
          const openBefore = prev ? openFenceAtEnd(parts.slice(0, i).map((q) => q.body).join("")) : null;
          expect(p.reopen !== "").toBe(openBefore !== null);
          if (openBefore) expect(p.reopen).toBe(`${openBefore.marker}${openBefore.lang}\n`);
        });
      }),
      { numRuns: 200 },
    );
  });

  it("text that fits is returned untouched, apart from closing a fence left open", () => {
    fc.assert(
      fc.property(replyText.filter((t) => t.length > 0 && t.length <= 900), (text) => {
        const got = splitMessage(text);
        expect(got).toHaveLength(1);
        const open = openFenceAtEnd(text);
        expect(got[0]).toBe(open ? `${text}${text.endsWith("\n") ? "" : "\n"}${open.marker}` : text);
      }),
      { numRuns: 200 },
    );
  });
});
