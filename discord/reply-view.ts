/**
 * What a reply looks like in Discord at any moment: its text split into messages, the status line
 * under the last one, and the buttons on the last one. Pure; the renderer diffs it against what is
 * already shown.
 */
import { DISCORD_MESSAGE_MAX_CHARS, splitMessage } from "./split-message.js";

/** Room kept free in every message for the status line, so adding it never forces a re-split. */
export const STATUS_RESERVE_CHARS = 200;

/** Where a reply is in its life. */
export type ReplyPhase =
  | { kind: "writing" }
  | { kind: "complete" }
  | { kind: "length" }
  | { kind: "stopped" }
  | { kind: "interrupted" }
  | { kind: "failed"; words: string };

/** A button on the last message of a reply. */
export type ReplyButton = { kind: "stop" } | { kind: "regenerate"; assistantMessageId: string | null };

/** One Discord message of a reply as it should be shown. */
export interface ReplyMessageView {
  content: string;
  buttons: ReplyButton[];
}

/** Discord rejects empty messages; a zero-width space stands in for whitespace-only content. */
const EMPTY_STAND_IN = "\u200b";

function statusLine(phase: ReplyPhase, hasText: boolean): string | null {
  switch (phase.kind) {
    case "writing":
      return "-# ✎ still writing…";
    case "complete":
      return hasText ? null : "-# (the model returned an empty answer)";
    case "length":
      return "-# ✂ cut off at the length limit";
    case "stopped":
      return hasText ? "-# ⏹ stopped" : "-# ⏹ stopped before any text was written";
    case "interrupted":
      return "-# ⚠ interrupted because the bot restarted. Press Regenerate or send your message again.";
    case "failed":
      return `-# ⚠ ${phase.words}`.slice(0, STATUS_RESERVE_CHARS - 4);
  }
}

function buttonsFor(phase: ReplyPhase, assistantMessageId: string | null): ReplyButton[] {
  if (phase.kind === "writing") return [{ kind: "stop" }];
  if (phase.kind === "failed" && assistantMessageId === null) return [];
  return [{ kind: "regenerate", assistantMessageId }];
}

/** The messages a reply should consist of, given its text so far and its phase. */
export function viewReply(args: { text: string; phase: ReplyPhase; assistantMessageId: string | null }): ReplyMessageView[] {
  const { text, phase } = args;
  // A failure before any text is shown as plain words, without the subtext styling.
  if (text.trim() === "" && phase.kind === "failed") return [{ content: phase.words, buttons: [] }];
  const chunks = splitMessage(text, DISCORD_MESSAGE_MAX_CHARS - STATUS_RESERVE_CHARS);
  const status = statusLine(phase, text.trim() !== "");
  const views: ReplyMessageView[] = chunks.map((c) => ({ content: c.trim() === "" ? EMPTY_STAND_IN : c, buttons: [] }));
  if (views.length === 0) views.push({ content: "", buttons: [] });
  const last = views[views.length - 1];
  if (last) {
    if (status) last.content = last.content === "" ? status : `${last.content}\n${status}`;
    if (last.content === "") last.content = EMPTY_STAND_IN;
    last.buttons = buttonsFor(phase, args.assistantMessageId);
  }
  return views;
}
