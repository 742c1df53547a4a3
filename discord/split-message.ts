/**
 * Splits a reply into Discord-sized messages: at paragraph or line boundaries where possible, and
 * never leaving a code block open across messages — a fence open at a split is closed at the end
 * of one message and reopened, with the same language, at the start of the next. Pure.
 */

/** Discord's limit on a message's content, in UTF-16 code units (a safe bound for its own count). */
export const DISCORD_MESSAGE_MAX_CHARS = 2000;

/** A fence line of at most this many characters counts as a fence; longer lines are prose. */
const FENCE_LINE_MAX_CHARS = 256;
/** A language tag longer than this is not carried into the reopened fence. */
const FENCE_LANG_MAX_CHARS = 32;
/** Prefer a nicer break only if it keeps at least this fraction of the room in use. */
const MIN_FILL_RATIO = 0.5;

/** An open code fence: its marker (``` or ~~~, maybe longer) and language tag. */
export interface OpenFence {
  marker: string;
  lang: string;
}

/** One message of a split: the original text it carries plus the fence lines added around it. */
export interface SplitPart {
  /** Added before `body`: a reopened fence (with newline), or "". */
  reopen: string;
  /** A slice of the original text; the bodies of all parts concatenate to the original. */
  body: string;
  /** Added after `body`: the closing fence (with a leading newline if needed), or "". */
  close: string;
}

const FENCE_RE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const FENCE_START_RE = /^ {0,3}(`{3,}|~{3,})/;
/** Smallest maxChars accepted: leaves room for the longest reopen + close fences and text. */
export const SPLIT_MIN_CHARS = 1000;

/** Updates fence state with one line (without its newline): opening, closing or neither. */
export function nextFenceState(state: OpenFence | null, line: string): OpenFence | null {
  if (line.length > FENCE_LINE_MAX_CHARS) return state;
  const m = FENCE_RE.exec(line);
  if (!m) return state;
  const marker = m[1] ?? "";
  const rest = m[2] ?? "";
  if (state === null) {
    // A backtick fence's info string may not contain backticks (CommonMark).
    if (marker.startsWith("`") && rest.includes("`")) return null;
    const lang = rest.trim().split(/\s+/)[0] ?? "";
    return { marker, lang: lang.length <= FENCE_LANG_MAX_CHARS ? lang : "" };
  }
  const closes = marker[0] === state.marker[0] && marker.length >= state.marker.length && rest.trim() === "";
  return closes ? null : state;
}

/** The fence still open at the end of `text`, or null if every fence is closed. */
export function openFenceAtEnd(text: string, start: OpenFence | null = null): OpenFence | null {
  let state = start;
  for (const line of text.split("\n")) state = nextFenceState(state, line);
  return state;
}

function reopenFor(fence: OpenFence | null): string {
  return fence ? `${fence.marker}${fence.lang}\n` : "";
}

function closeFor(fence: OpenFence | null, body: string): string {
  if (!fence) return "";
  return body.endsWith("\n") || body === "" ? fence.marker : `\n${fence.marker}`;
}

/** Kinds of break, best first. */
const enum BreakKind {
  Paragraph = 0,
  LineOutsideCode = 1,
  LineInsideCode = 2,
}

interface Break {
  pos: number;
  kind: BreakKind;
  fence: OpenFence | null;
}

/** Splits `text` into parts whose joined form (`reopen + body + close`) fits `maxChars`. */
export function splitMessageParts(text: string, maxChars: number = DISCORD_MESSAGE_MAX_CHARS): SplitPart[] {
  if (maxChars < SPLIT_MIN_CHARS) throw new Error(`maxChars must be at least ${SPLIT_MIN_CHARS}, got ${maxChars}`);
  const parts: SplitPart[] = [];
  let start = 0;
  let fence: OpenFence | null = null;
  while (start < text.length) {
    const reopen = reopenFor(fence);
    const part = takePart({ text, start, fence, room: maxChars - reopen.length });
    parts.push({ reopen, body: text.slice(start, part.end), close: closeFor(part.fenceAtEnd, text.slice(start, part.end)) });
    start = part.end;
    fence = part.fenceAtEnd;
  }
  return parts;
}

/** Splits `text` into Discord messages of at most `maxChars` (see splitMessageParts). */
export function splitMessage(text: string, maxChars: number = DISCORD_MESSAGE_MAX_CHARS): string[] {
  return splitMessageParts(text, maxChars).map((p) => p.reopen + p.body + p.close);
}

/** Finds where the part starting at `start` ends, given `room` characters for body + close. */
function takePart(args: { text: string; start: number; fence: OpenFence | null; room: number }): {
  end: number;
  fenceAtEnd: OpenFence | null;
} {
  const { text, start, room } = args;
  let fence = args.fence;
  const breaks: Break[] = [];
  let lineStart = start;
  while (lineStart < text.length) {
    const nl = text.indexOf("\n", lineStart);
    const lineEnd = nl === -1 ? text.length : nl;
    const next = nl === -1 ? text.length : nl + 1;
    const line = text.slice(lineStart, lineEnd);
    const fenceBefore = fence;
    fence = nextFenceState(fence, line);
    const used = next - start;
    if (used + closeLength(fence, nl !== -1) > room) {
      // This line does not fit whole: break before it (or inside it if nothing fits).
      return chooseBreak({ breaks, start, room }) ?? hardBreak({ text, start, room, fence: fenceBefore });
    }
    if (next === text.length) return { end: next, fenceAtEnd: fence };
    const lineBlank = line.trim() === "";
    const opens = fenceBefore === null && fence !== null;
    const closes = fenceBefore !== null && fence === null;
    let kind: BreakKind;
    if (fence !== null) kind = BreakKind.LineInsideCode;
    else if (lineBlank || closes) kind = BreakKind.Paragraph;
    else kind = BreakKind.LineOutsideCode;
    breaks.push({ pos: next, kind, fence });
    // A break just before an opening fence keeps the whole block together: mark the previous one.
    if (opens && breaks.length >= 2) {
      const before = breaks[breaks.length - 2];
      if (before && before.pos === lineStart) before.kind = BreakKind.Paragraph;
    }
    lineStart = next;
  }
  return { end: text.length, fenceAtEnd: fence };
}

function closeLength(fence: OpenFence | null, endsWithNewline: boolean): number {
  if (!fence) return 0;
  return fence.marker.length + (endsWithNewline ? 0 : 1);
}

function chooseBreak(args: { breaks: Break[]; start: number; room: number }): { end: number; fenceAtEnd: OpenFence | null } | null {
  const { breaks, start, room } = args;
  if (breaks.length === 0) return null;
  const minEnd = start + room * MIN_FILL_RATIO;
  for (const kind of [BreakKind.Paragraph, BreakKind.LineOutsideCode, BreakKind.LineInsideCode]) {
    for (let i = breaks.length - 1; i >= 0; i--) {
      const b = breaks[i];
      if (b && b.kind === kind && b.pos >= minEnd) return { end: b.pos, fenceAtEnd: b.fence };
    }
  }
  const last = breaks[breaks.length - 1];
  return last ? { end: last.pos, fenceAtEnd: last.fence } : null;
}

/** Splits inside a line too long for the room: at a space if a good one exists, else anywhere. */
function hardBreak(args: { text: string; start: number; room: number; fence: OpenFence | null }): {
  end: number;
  fenceAtEnd: OpenFence | null;
} {
  const { text, start, fence } = args;
  const room = args.room - (fence ? fence.marker.length + 1 : 0);
  let end = start + room;
  const space = text.lastIndexOf(" ", end - 1);
  // The first piece stays longer than a fence line can be, so it never reads as one on its own.
  const minEnd = start + Math.max(room * MIN_FILL_RATIO, FENCE_LINE_MAX_CHARS + 8);
  if (space + 1 > minEnd) end = space + 1;
  // The rest of the line must not start with something that reads as a fence once it begins a message.
  while (end > start + 1 && FENCE_START_RE.test(text.slice(end, end + 8))) end--;
  // Never cut a surrogate pair in half.
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff && end - 1 > start) end--;
  return { end, fenceAtEnd: fence };
}
