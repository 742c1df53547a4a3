import { describe, expect, it } from "vitest";
import {
  cleanTurns,
  createDedupeState,
  dedupeKey,
  feedbackDropReason,
  htmlToMarkdown,
  qualityDropReason,
  splitFences,
  type FeedbackMode,
} from "../../export/clean.js";
import type { DropReason, ExportMessage, ExportPair } from "../../export/conversation.js";

const u = (content: string): ExportMessage => ({ role: "user", content, status: "complete", feedback: { up: 0, down: 0 } });
const a = (content: string, status: ExportMessage["status"] = "complete", up = 0, down = 0): ExportMessage => ({
  role: "assistant",
  content,
  status,
  feedback: { up, down },
});
const pair = (user: string, assistant: string, up = 0, down = 0): ExportPair => ({ user, assistant, feedback: { up, down } });

describe("cleanTurns", () => {
  const cases: Array<{ name: string; messages: ExportMessage[]; pairs: Array<[string, string]>; dropped: number }> = [
    { name: "empty", messages: [], pairs: [], dropped: 0 },
    { name: "one complete pair", messages: [u("q"), a("r")], pairs: [["q", "r"]], dropped: 0 },
    { name: "length counts as good", messages: [u("q"), a("r", "length")], pairs: [["q", "r"]], dropped: 0 },
    { name: "cancelled reply cut with its question", messages: [u("q1"), a("r1"), u("q2"), a("r2", "cancelled"), u("q3"), a("r3")], pairs: [["q1", "r1"], ["q3", "r3"]], dropped: 2 },
    { name: "failed reply cut with its question", messages: [u("q1"), a("r1", "failed")], pairs: [], dropped: 2 },
    { name: "null status is not good", messages: [u("q1"), a("r1", null)], pairs: [], dropped: 2 },
    { name: "two users in a row: the later is kept", messages: [u("q1"), u("q2"), a("r2")], pairs: [["q2", "r2"]], dropped: 1 },
    { name: "two users in a row, later one failed", messages: [u("q1"), u("q2"), a("r2", "failed")], pairs: [], dropped: 3 },
    { name: "leading assistant dropped", messages: [a("hello"), u("q"), a("r")], pairs: [["q", "r"]], dropped: 1 },
    { name: "assistant after assistant dropped", messages: [u("q"), a("r"), a("again")], pairs: [["q", "r"]], dropped: 1 },
    { name: "trailing user dropped", messages: [u("q"), a("r"), u("unanswered")], pairs: [["q", "r"]], dropped: 1 },
    { name: "blank reply dropped with its question", messages: [u("q"), a("  \n")], pairs: [], dropped: 2 },
    { name: "blank question dropped with its reply", messages: [u(" "), a("r")], pairs: [], dropped: 2 },
    {
      name: "mixed",
      messages: [a("stray"), u("q1"), a("r1", "length"), u("q2"), u("q3"), a("r3"), u("q4"), a("r4", "cancelled"), u("q5")],
      pairs: [["q1", "r1"], ["q3", "r3"]],
      dropped: 5,
    },
  ];
  it.each(cases)("$name", ({ messages, pairs, dropped }) => {
    const result = cleanTurns(messages);
    expect(result.pairs.map((p) => [p.user, p.assistant])).toEqual(pairs);
    expect(result.droppedMessages).toBe(dropped);
  });

  it("carries the reply's feedback", () => {
    expect(cleanTurns([u("q"), a("r", "complete", 3, 1)]).pairs[0]!.feedback).toEqual({ up: 3, down: 1 });
  });
});

describe("feedbackDropReason", () => {
  const cases: Array<{ mode: FeedbackMode; feedback: Array<[number, number]>; reason: DropReason | null }> = [
    { mode: "any", feedback: [[0, 5]], reason: null },
    { mode: "not-down", feedback: [[0, 0], [2, 1]], reason: null },
    { mode: "not-down", feedback: [[1, 1]], reason: null },
    { mode: "not-down", feedback: [[3, 0], [0, 1]], reason: "feedback_down" },
    { mode: "not-down", feedback: [[1, 2]], reason: "feedback_down" },
    { mode: "up", feedback: [[1, 0], [2, 1]], reason: null },
    { mode: "up", feedback: [[1, 0], [0, 0]], reason: "feedback_not_up" },
    { mode: "up", feedback: [[1, 1]], reason: "feedback_not_up" },
  ];
  it.each(cases)("$mode $feedback → $reason", ({ mode, feedback, reason }) => {
    expect(feedbackDropReason(feedback.map(([up, down]) => pair("q", "r", up, down)), mode)).toBe(reason);
  });
});

describe("htmlToMarkdown", () => {
  const unchanged = [
    "a * b",
    "snake_case and __dunder__",
    "# heading\n\n- item\n- item\n\n1. one",
    "x < y and y > z",
    "How do I center a <div>?",
    "Vec<String> and Map<K, V>",
    "An autolink <https://example.com>",
    "Use `<br>` to break a line",
    "&amp; &lt;b&gt; stay entities",
    "```html\n<p>Hello <b>world</b></p>\n```",
    "~~~\n<div>x</div>\n~~~",
    "text\n```\n<b>unclosed fence</b>\n",
    "",
  ];
  it.each(unchanged)("plain or code text is unchanged: %j", (text) => {
    expect(htmlToMarkdown(text)).toBe(text);
  });

  const converted: Array<[string, string]> = [
    ["<p>Hello <b>world</b></p>", "Hello **world**"],
    ["<h2>Title</h2><p>text</p>", "## Title\n\ntext"],
    ["<ul><li>one</li><li>two</li></ul>", "-   one\n-   two"],
    ['<pre><code class="language-js">let a = 1;</code></pre>', "```js\nlet a = 1;\n```"],
    ["one<br>two", "one  \ntwo"],
    ["<p>Use `x_y` here</p>", "Use `x_y` here"],
    ["<p>a * b</p>", "a \\* b"],
    // Plain paragraphs and code around an HTML one keep every byte.
    ["plain * text\n\n<p><i>it</i></p>\n\n```py\nx = '<b>'\n```\nafter_it", "plain * text\n\n_it_\n\n```py\nx = '<b>'\n```\nafter_it"],
    // Inline markup converts line by line, keeping the paragraph's line breaks.
    ["line_1\nline 2 <b>bold</b>\n  indented <em>x</em>", "line_1\nline 2 **bold**\n  indented _x_"],
    ['See <a href="https://example.com">the docs</a>.', "See [the docs](https://example.com)."],
  ];
  it.each(converted)("%j → %j", (html, markdown) => {
    expect(htmlToMarkdown(html)).toBe(markdown);
  });

  it("splitFences gives the text back byte for byte", () => {
    const text = "a\n```js\nx\n```\nb\n    ```\nnot a fence (indented 4)\n~~~~\ny\n~~~\nstill code\n~~~~\n```a``` inline\n";
    const segments = splitFences(text);
    expect(segments.map((s) => s.text).join("")).toBe(text);
    expect(segments.filter((s) => s.code).map((s) => s.text)).toEqual(["```js\nx\n```\n", "~~~~\ny\n~~~\nstill code\n~~~~\n"]);
  });
});

describe("qualityDropReason", () => {
  const options = { minChars: 20, blockList: ["As an AI language model"] };
  const cases: Array<{ name: string; pairs: ExportPair[]; system?: string; reason: DropReason | null }> = [
    { name: "kept", pairs: [pair("What is 2 + 2?", "It is 4, of course.")], reason: null },
    { name: "too short", pairs: [pair("hi", "hello!")], reason: "too_short" },
    { name: "whitespace does not count", pairs: [pair("hi          ", "          hello")], reason: "too_short" },
    { name: "exactly the minimum", pairs: [pair("0123456789", "0123456789")], reason: null },
    { name: "blocked, case-insensitive", pairs: [pair("Tell me a joke please", "as an ai LANGUAGE model, I cannot")], reason: "blocked" },
    { name: "blocked in system prompt", pairs: [pair("Tell me a joke please", "Why did the llama cross")], system: "As an AI language model you…", reason: "blocked" },
    { name: "no pairs", pairs: [], reason: "no_complete_turns" },
  ];
  it.each(cases)("$name", ({ pairs, system, reason }) => {
    expect(qualityDropReason(pairs, system ?? null, options, createDedupeState())).toBe(reason);
  });

  it("dedupes on the normalised first pair, across conversations", () => {
    const state = createDedupeState();
    const first = [pair("What is a llama?", "A South American camelid."), pair("And an alpaca?", "Smaller.")];
    const copies: Array<[ExportPair[], DropReason | null]> = [
      [first, null],
      [[pair("  what IS a\n llama? ", "A  South American\tcamelid. "), pair("different", "later turns")], "duplicate"],
      [[pair("What is a llama?", "A different answer.")], null],
      [[pair("And an alpaca?", "Smaller.")], null],
    ];
    for (const [pairs, reason] of copies) expect(qualityDropReason(pairs, null, options, state)).toBe(reason);
    expect(state.seen.size).toBe(3);
  });

  it("does not register a dropped conversation", () => {
    const state = createDedupeState();
    expect(qualityDropReason([pair("hi", "hello")], null, options, state)).toBe("too_short");
    expect(state.seen.size).toBe(0);
  });

  it("dedupeKey is a 32-character hex digest that ignores spacing and case", () => {
    const key = dedupeKey({ user: "A  b", assistant: "C" });
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(dedupeKey({ user: " a b ", assistant: "c" })).toBe(key);
    expect(dedupeKey({ user: "a b c", assistant: "" })).not.toBe(key);
  });
});
