/**
 * What an arena battle looks like in Discord, and the vote buttons' custom ids. Pure: the asked
 * question quoted, Model A's answer, Model B's answer (each split to Discord's limit, never naming
 * a model), then a short vote message whose buttons carry the battle id and who may vote; after
 * the vote that message reveals both models.
 */
import type { ArenaBattle, ArenaReply, ArenaTurnResult, ArenaWinner } from "../wire/arena.js";
import { errorToWords } from "./errors-to-words.js";
import { GatewayCallError } from "./gateway-error.js";
import { openFenceAtEnd, splitMessage } from "./split-message.js";
import { statusForStreamError } from "./stream-error-status.js";

/** Discord's limit on a component's custom_id. */
export const CUSTOM_ID_MAX_CHARS = 100;

/** custom_id prefix of the vote buttons: `altiplano:arena:<winner>:<asker id>:<battle id>`. */
export const ARENA_VOTE_PREFIX = "altiplano:arena:";

/** The four votes, in button order. */
export const ARENA_WINNERS: readonly ArenaWinner[] = ["a", "b", "tie", "bothbad"];

/** The buttons' labels (and how a vote is quoted in the reveal). */
export const VOTE_LABELS: Record<ArenaWinner, string> = {
  a: "A is better",
  b: "B is better",
  tie: "Tie",
  bothbad: "Both are bad",
};

/** What a vote button says: which battle, whose, and which vote. */
export interface ArenaVoteButton {
  battleId: string;
  /** Discord user id of the member who asked; only they may vote. */
  askerId: string;
  winner: ArenaWinner;
}

const SNOWFLAKE_RE = /^\d{1,20}$/;
/** Battle ids are the gateway's `battle_` + base64url; anything else is not ours. */
const BATTLE_ID_RE = /^[A-Za-z0-9_-]+$/;

/** The custom_id of one vote button; throws if it would not fit Discord's 100 characters. */
export function encodeVoteId(button: ArenaVoteButton): string {
  if (!SNOWFLAKE_RE.test(button.askerId)) throw new Error(`not a Discord user id: ${button.askerId}`);
  if (!BATTLE_ID_RE.test(button.battleId)) throw new Error(`unexpected battle id: ${button.battleId}`);
  const id = `${ARENA_VOTE_PREFIX}${button.winner}:${button.askerId}:${button.battleId}`;
  if (id.length > CUSTOM_ID_MAX_CHARS) throw new Error(`vote custom_id would be ${id.length} characters, over Discord's ${CUSTOM_ID_MAX_CHARS}`);
  return id;
}

/** The vote a custom_id stands for, or null if it is not a well-formed vote button. */
export function decodeVoteId(customId: string): ArenaVoteButton | null {
  if (!customId.startsWith(ARENA_VOTE_PREFIX) || customId.length > CUSTOM_ID_MAX_CHARS) return null;
  const [winner, askerId, battleId, ...rest] = customId.slice(ARENA_VOTE_PREFIX.length).split(":");
  if (rest.length > 0 || winner === undefined || askerId === undefined || battleId === undefined) return null;
  if (!(ARENA_WINNERS as readonly string[]).includes(winner)) return null;
  if (!SNOWFLAKE_RE.test(askerId) || !BATTLE_ID_RE.test(battleId)) return null;
  return { winner: winner as ArenaWinner, askerId, battleId };
}

/** The four vote buttons of a battle, in order. */
export function voteButtons(battleId: string, askerId: string): Array<{ customId: string; label: string; winner: ArenaWinner }> {
  return ARENA_WINNERS.map((winner) => ({ customId: encodeVoteId({ battleId, askerId, winner }), label: VOTE_LABELS[winner], winner }));
}

const SLOT_NAMES = { a: "Model A", b: "Model B" } as const;
/** Longest question shown in the quote; the models got all of it. */
const QUOTE_MAX_CHARS = 1500;
/** Discord rejects empty messages; a zero-width space stands in for whitespace-only content. */
const EMPTY_STAND_IN = "\u200b";

/** Words for why a side failed, from the error it carries (as if it had been an HTTP error). */
export function sideFailureWords(reply: ArenaReply): string {
  const e = reply.error;
  if (!e) return errorToWords(new GatewayCallError({ message: "side failed", status: 502 }));
  return errorToWords(new GatewayCallError({ message: e.message, status: statusForStreamError(e.code, e.type), type: e.type, code: e.code }));
}

function statusLine(reply: ArenaReply): string | null {
  const hasText = reply.content.trim() !== "";
  switch (reply.status) {
    case "failed":
      return `-# ⚠ ${sideFailureWords(reply)}`;
    case "length":
      return "-# ✂ cut off at the length limit";
    case "cancelled":
      return hasText ? "-# ⏹ stopped" : "-# ⏹ stopped before any text was written";
    default:
      return hasText ? null : "-# (the model returned an empty answer)";
  }
}

/** One side's section: its label, its answer, and a status line if it did not simply finish. */
function section(slot: "a" | "b", reply: ArenaReply): string {
  const body = reply.content.replace(/\s+$/, "");
  const fence = openFenceAtEnd(body);
  // An answer that ends inside a code block is closed here, so the status line is not code.
  const closed = fence ? `${body}\n${fence.marker}` : body;
  const status = statusLine(reply);
  return [`**${SLOT_NAMES[slot]}**`, closed, status].filter((s): s is string => s !== null && s !== "").join("\n");
}

function quote(askerId: string, question: string): string {
  const q = question.length > QUOTE_MAX_CHARS ? `${question.slice(0, QUOTE_MAX_CHARS)}…` : question;
  return `<@${askerId}> asked the arena:\n${q.replace(/^/gm, "> ")}`;
}

function names(battle: ArenaBattle): string | null {
  if (battle.a.model === null || battle.b.model === null) return null;
  return `Model A was \`${battle.a.model}\`, Model B was \`${battle.b.model}\``;
}

/** How the battle is shown: its messages in order, and whether the last one carries the vote buttons. */
export interface ArenaPostView {
  messages: string[];
  votable: boolean;
}

/**
 * The messages of a battle's first turn. Each side starts a new message, so "Model B" is never
 * buried in Model A's last message; the last message asks for the vote (only if both sides
 * answered), or says why there is none.
 */
export function viewArenaPost(args: { askerId: string; question: string; result: ArenaTurnResult }): ArenaPostView {
  const { result } = args;
  const a = splitMessage(`${quote(args.askerId, args.question)}\n\n${section("a", result.replies.a)}`);
  const b = splitMessage(section("b", result.replies.b));
  const failed = (["a", "b"] as const).filter((s) => result.replies[s].status === "failed");
  const votable = result.status === "open" && failed.length === 0;
  let last: string;
  if (votable) {
    last = `Which answer is better, <@${args.askerId}>? Only you can vote; the models' names are shown after your vote.`;
  } else {
    const who = failed.length === 2 ? "Both models failed" : failed.length === 1 ? `${SLOT_NAMES[failed[0] ?? "a"]} failed` : "This battle is closed";
    const revealed = names(result);
    last = `-# No vote on this one: ${who}, so the answers can't be compared.${revealed ? ` ${revealed}.` : ""} Ask again with \`/arena\`.`;
  }
  const messages = [...a, ...b, last].map((m) => (m.trim() === "" ? EMPTY_STAND_IN : m));
  return { messages, votable };
}

/** The vote message after the vote: both names and the vote, e.g. "Model A was `x`, Model B was `y` — you voted “Tie”." */
export function revealWords(battle: ArenaBattle): string {
  const revealed = names(battle) ?? "The models' names are not available";
  const vote = battle.vote ? ` — you voted “${VOTE_LABELS[battle.vote.winner]}”.` : ".";
  return `${revealed}${vote}`;
}

/** The answer to a vote from anyone but the asker. */
export function voteRefusedWords(askerId: string): string {
  return `Only <@${askerId}> can vote on this battle: it's their question. Ask your own with \`/arena\`.`;
}
