/**
 * Cleaning a consented conversation for training, as FastChat's ShareGPT pipeline cleans its data:
 * keep only answered turns, filter by feedback, turn HTML into Markdown, and drop duplicates,
 * near-empty and block-listed conversations. Pure functions (no I/O); the dedupe state is an
 * object the caller keeps across conversations.
 */
import { createHash } from "node:crypto";
import TurndownService from "turndown";
import type { DropReason, ExportMessage, ExportPair } from "./conversation.js";

// ─── 1. Turns ──────────────────────────────────────────────────────────────────────────────────

/** Reply statuses worth learning from: a finished answer, or one cut by max_tokens. */
const GOOD_STATUS: ReadonlySet<ExportMessage["status"]> = new Set(["complete", "length"]);

export interface CleanTurnsResult {
  /** Alternating human/gpt exchanges, in order; empty = nothing to train on. */
  pairs: ExportPair[];
  /** Messages left out: cut with a cancelled/failed reply, stray, unanswered or blank. */
  droppedMessages: number;
}

/**
 * The (user, assistant) pairs whose reply is "complete" or "length". A cancelled, failed or
 * status-less reply is cut together with the user message it answered (the question alone would
 * teach nothing, and it would break alternation). Of two user messages in a row only the later
 * can be kept, since only it was answered; an assistant message without a user message before it
 * is dropped; a trailing user message has no answer. Pairs with a blank side are dropped too: an
 * empty answer renders without an end-of-sequence token in FastChat's templates.
 */
export function cleanTurns(messages: readonly ExportMessage[]): CleanTurnsResult {
  const pairs: ExportPair[] = [];
  let pending: ExportMessage | null = null;
  let dropped = 0;
  for (const message of messages) {
    if (message.role === "user") {
      if (pending !== null) dropped++; // the earlier of two user messages in a row
      pending = message;
      continue;
    }
    if (pending === null) {
      dropped++; // an assistant message with no question before it
      continue;
    }
    if (GOOD_STATUS.has(message.status) && message.content.trim() !== "" && pending.content.trim() !== "") {
      pairs.push({ user: pending.content, assistant: message.content, feedback: message.feedback });
    } else {
      dropped += 2;
    }
    pending = null;
  }
  if (pending !== null) dropped++; // unanswered last question
  return { pairs, droppedMessages: dropped };
}

// ─── 2. Feedback ───────────────────────────────────────────────────────────────────────────────

/**
 * "any": everything; "not-down": drop a conversation where some kept reply has more 👎 than 👍
 * (one 👎 among several 👍 is disagreement, not a bad answer); "up": keep only conversations where
 * every kept reply has more 👍 than 👎 (unrated replies fail it).
 */
export type FeedbackMode = "any" | "not-down" | "up";
export const FEEDBACK_MODES: readonly FeedbackMode[] = ["any", "not-down", "up"];

/** Null when the conversation passes `mode`, else why it is dropped. */
export function feedbackDropReason(pairs: readonly ExportPair[], mode: FeedbackMode): DropReason | null {
  if (mode === "not-down") return pairs.some((p) => p.feedback.down > p.feedback.up) ? "feedback_down" : null;
  if (mode === "up") return pairs.every((p) => p.feedback.up > p.feedback.down) ? null : "feedback_not_up";
  return null;
}

// ─── 3. HTML → Markdown ────────────────────────────────────────────────────────────────────────

const turndown = new TurndownService({ headingStyle: "atx", codeBlockStyle: "fenced", fence: "```", bulletListMarker: "-" });

// Tag names that make text HTML. Only these: "Vec<String>", "<https://x>" or "a <b c" are not HTML.
const TAGS = "p|div|span|br|hr|b|strong|i|em|u|s|del|ins|mark|sub|sup|small|code|pre|kbd|blockquote|ul|ol|li|dl|dt|dd|h[1-6]|a|img|table|thead|tbody|tfoot|tr|th|td|details|summary|section|article|header|footer|figure|figcaption";
const ANY_TAG = new RegExp(`</?(?:${TAGS})(?:\\s[^<>]*)?/?>`, "i");
// A paragraph is converted only when it holds real markup: a void element, or an element that is
// opened and closed. "How do I center a <div>?" mentions a tag; turndown would eat the question.
const VOID_TAG = /<(?:br|hr|img)\b[^<>]*>/i;
const PAIRED_TAG = new RegExp(`<(${TAGS})(?:\\s[^<>]*)?>[\\s\\S]*?</\\1\\s*>`, "i");

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;

interface Segment {
  code: boolean;
  text: string;
}

/**
 * Splits text into fenced code blocks and the prose between them, byte for byte (joining the
 * texts gives the input back). A fence opens at the start of a line (up to 3 spaces in) and is
 * closed by a line of at least as many of the same character; an unclosed fence runs to the end.
 */
export function splitFences(text: string): Segment[] {
  const segments: Segment[] = [];
  let current = "";
  let fence: string | null = null;
  const flush = (code: boolean): void => {
    if (current !== "") segments.push({ code, text: current });
    current = "";
  };
  for (const line of text.split(/(?<=\n)/)) {
    if (fence === null) {
      const open = FENCE_OPEN.exec(line);
      // A backtick fence's info string cannot hold a backtick (```a``` is inline code).
      if (open !== null && !(open[1]!.startsWith("`") && line.slice(open[0].length).includes("`"))) {
        flush(false);
        fence = open[1]!;
      }
      current += line;
      continue;
    }
    current += line;
    const close = /^ {0,3}(`{3,}|~{3,})[ \t]*\r?\n?$/.exec(line);
    if (close !== null && close[1]![0] === fence[0] && close[1]!.length >= fence.length) {
      flush(true);
      fence = null;
    }
  }
  flush(fence !== null);
  return segments;
}

// An inline code span: a run of backticks, content, the same run (CommonMark).
const INLINE_CODE = /(?<!`)(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g;

/** Replaces inline code spans with alphanumeric markers turndown passes through untouched. */
function maskInlineCode(text: string): { masked: string; restore: (converted: string) => string } {
  let prefix = "ALTIPLANOCODE";
  while (text.includes(prefix)) prefix += "X";
  const spans: string[] = [];
  // "Z" ends the number, so marker 1 followed by a digit is never read as marker 10.
  const marker = (n: number): string => `${prefix}${n}Z`;
  const masked = text.replace(INLINE_CODE, (span) => marker(spans.push(span)));
  const restore = (converted: string): string => spans.reduce((out, span, i) => out.split(marker(i + 1)).join(span), converted);
  return { masked, restore };
}

// Block elements make a paragraph one HTML block; without them its markup is inline (<b>, <a>,
// <br>…) and converting line by line keeps the paragraph's own line breaks, which turndown would
// fold into spaces as HTML whitespace.
const BLOCK_TAG = /<\/?(?:p|div|pre|blockquote|ul|ol|li|dl|h[1-6]|table|thead|tbody|tfoot|tr|th|td|details|section|article|header|footer|figure|hr)\b[^<>]*>/i;

/** Text converted when it holds markup (a void element, or one opened and closed), else unchanged. */
function convertMarkup(text: string): string {
  const { masked, restore } = maskInlineCode(text);
  if (!VOID_TAG.test(masked) && !PAIRED_TAG.test(masked)) return text;
  const [, lead = "", core = "", trail = ""] = /^(\s*)([\s\S]*?)(\s*)$/.exec(masked) ?? [];
  return restore(`${lead}${turndown.turndown(core)}${trail}`);
}

/** One blank-line-separated paragraph: a whole HTML block, or line by line. */
function convertParagraph(paragraph: string): string {
  if (BLOCK_TAG.test(maskInlineCode(paragraph).masked)) return convertMarkup(paragraph);
  return paragraph.split(/(\r?\n)/).map((part, i) => (i % 2 === 0 ? convertMarkup(part) : part)).join("");
}

/**
 * Text with HTML markup as Markdown (turndown: atx headings, ``` fences, "-" bullets). Fenced code
 * blocks and inline code spans stay byte for byte; so does every paragraph (or, for inline-only
 * markup, every line) without markup, since turndown would escape Markdown characters
 * ("a * b" → "a \* b"): it only ever sees text that holds a real element.
 */
export function htmlToMarkdown(text: string): string {
  if (!ANY_TAG.test(text)) return text;
  return splitFences(text)
    .map((segment) => (segment.code ? segment.text : segment.text.split(/(\n(?:[ \t]*\n)+)/).map((part, i) => (i % 2 === 0 ? convertParagraph(part) : part)).join("")))
    .join("");
}

// ─── 5. Dedupe, length, block-list ─────────────────────────────────────────────────────────────

/** Hashes of the first exchanges already written; the caller keeps one across an export run. */
export interface DedupeState {
  seen: Set<string>;
}

export function createDedupeState(): DedupeState {
  return { seen: new Set() };
}

/** Trimmed, whitespace collapsed, lower-cased: copies that differ only in spacing or case match. */
export function normaliseForDedupe(text: string): string {
  return text.trim().replace(/\s+/g, " ").toLowerCase();
}

/** The dedupe key of a conversation: its first (human, gpt) pair, sha256 hex truncated to 128 bits. */
export function dedupeKey(first: Pick<ExportPair, "user" | "assistant">): string {
  const text = `${normaliseForDedupe(first.user)}\u0000${normaliseForDedupe(first.assistant)}`;
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

export interface QualityOptions {
  /** Fewest characters of user + assistant text a kept conversation has (default 20). */
  minChars: number;
  /** Phrases that drop a conversation wherever they appear (case-insensitive substring). */
  blockList: readonly string[];
}

export const DEFAULT_MIN_CHARS = 20;

/**
 * Null when the conversation is kept, else why not: "too_short", "blocked" (in a message or the
 * system prompt, which is written to the record too), "duplicate". Checked in that order, and a
 * conversation is entered into `state` only when kept, so a dropped copy never hides a good one.
 */
export function qualityDropReason(
  pairs: readonly ExportPair[],
  system: string | null,
  options: QualityOptions,
  state: DedupeState,
): DropReason | null {
  const first = pairs[0];
  if (first === undefined) return "no_complete_turns";
  const chars = pairs.reduce((n, p) => n + p.user.trim().length + p.assistant.trim().length, 0);
  if (chars < options.minChars) return "too_short";
  const phrases = options.blockList.map((p) => p.toLowerCase()).filter((p) => p !== "");
  const texts = [system ?? "", ...pairs.flatMap((p) => [p.user, p.assistant])].map((t) => t.toLowerCase());
  if (phrases.some((phrase) => texts.some((t) => t.includes(phrase)))) return "blocked";
  const key = dedupeKey(first);
  if (state.seen.has(key)) return "duplicate";
  state.seen.add(key);
  return null;
}
