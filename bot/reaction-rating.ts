/**
 * How 👍 / 👎 reactions on a reply become one end user's rating of it. Pure.
 *
 * Each user's rating follows the thumbs they still show on the reply's messages (a long reply is
 * several Discord messages): the most recently added one wins, and removing it falls back to the
 * one still showing, or to no rating. So 👍 then 👎 ends as down; removing that 👎 while the 👍 is
 * still there goes back to up; removing the last one clears the rating.
 */
import type { Rating } from "../wire/conversations.js";

/** A thumb a user shows on one Discord message of a reply. */
export interface ShownThumb {
  discordMessageId: string;
  rating: Rating;
}

/** A reaction added or removed by one user on one Discord message of a reply. */
export interface ThumbChange {
  kind: "add" | "remove";
  discordMessageId: string;
  rating: Rating;
}

// Skin-tone modifiers (U+1F3FB–U+1F3FF) and the emoji presentation selector do not change the meaning.
const MODIFIERS = /[\u{1F3FB}-\u{1F3FF}\u{FE0F}]/gu;

/** The rating a reaction emoji stands for; null for every other emoji (and custom ones). */
export function ratingForEmoji(emojiName: string | null | undefined): Rating | null {
  const base = (emojiName ?? "").replace(MODIFIERS, "");
  if (base === "👍") return "up";
  if (base === "👎") return "down";
  return null;
}

/** The thumbs a user shows after a change, oldest first (each thumb once per message). */
export function applyThumbChange(shown: readonly ShownThumb[], change: ThumbChange): ShownThumb[] {
  const rest = shown.filter((t) => !(t.discordMessageId === change.discordMessageId && t.rating === change.rating));
  return change.kind === "add" ? [...rest, { discordMessageId: change.discordMessageId, rating: change.rating }] : rest;
}

/** The rating the shown thumbs stand for: the latest one, or none. */
export function ratingOf(shown: readonly ShownThumb[]): Rating | null {
  return shown.at(-1)?.rating ?? null;
}

/**
 * Whether a feedback call answered "no such message" should be tried again: a reply is stored by
 * the gateway when it ends, and a stopped one a moment after the bot showed it stopped, so a
 * reaction right after the end can come first. Long after the end, the message is gone for good
 * (the reply was regenerated, or the conversation reset).
 */
export function retryNotFound(args: { replyEndedAtMs: number; nowMs: number; graceMs: number }): boolean {
  return args.nowMs - args.replyEndedAtMs < args.graceMs;
}
