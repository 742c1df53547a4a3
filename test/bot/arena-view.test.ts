/**
 * The arena's pure parts, by tables: vote button custom ids (round trip, Discord's 100-character
 * limit, what is refused), the vote labels, the reveal wording, the arena errors in words, and
 * how a battle is laid out in messages (labels, splitting, failures, no names before the vote).
 */
import { describe, expect, it } from "vitest";
import type { ArenaBattle, ArenaReply, ArenaTurnResult, ArenaWinner } from "../../wire/arena.js";
import {
  ARENA_VOTE_PREFIX,
  CUSTOM_ID_MAX_CHARS,
  VOTE_LABELS,
  decodeVoteId,
  encodeVoteId,
  revealWords,
  sideFailureWords,
  viewArenaPost,
  voteButtons,
} from "../../discord/arena-view.js";
import { errorToWords } from "../../discord/errors-to-words.js";
import { GatewayCallError } from "../../discord/gateway-error.js";
import { openFenceAtEnd } from "../../discord/split-message.js";

const ASKER = "123456789012345678";
const BATTLE = "battle_Ab3-_xYz01234567";

describe("vote button custom ids", () => {
  const winners: ArenaWinner[] = ["a", "b", "tie", "bothbad"];
  it.each(winners)("round-trips the %s vote", (winner) => {
    const id = encodeVoteId({ battleId: BATTLE, askerId: ASKER, winner });
    expect(id).toBe(`altiplano:arena:${winner}:${ASKER}:${BATTLE}`);
    expect(decodeVoteId(id)).toEqual({ battleId: BATTLE, askerId: ASKER, winner });
  });

  it("fits a 20-digit user id and a battle id up to the limit, and refuses one character more", () => {
    const asker = "9".repeat(20);
    const room = CUSTOM_ID_MAX_CHARS - `${ARENA_VOTE_PREFIX}bothbad:${asker}:`.length;
    const longest = encodeVoteId({ battleId: "b".repeat(room), askerId: asker, winner: "bothbad" });
    expect(longest).toHaveLength(CUSTOM_ID_MAX_CHARS);
    expect(decodeVoteId(longest)?.battleId).toBe("b".repeat(room));
    expect(() => encodeVoteId({ battleId: "b".repeat(room + 1), askerId: asker, winner: "bothbad" })).toThrow(/over Discord's 100/);
    // The gateway's ids (`battle_` + 16 base64url characters) leave plenty of room.
    expect(encodeVoteId({ battleId: "battle_0123456789abcdef", askerId: asker, winner: "bothbad" }).length).toBeLessThan(70);
  });

  it.each([
    ["another button", "altiplano:stop"],
    ["a regenerate button", "altiplano:regen:msg_1"],
    ["an unknown vote", `altiplano:arena:c:${ASKER}:${BATTLE}`],
    ["an uppercase vote", `altiplano:arena:A:${ASKER}:${BATTLE}`],
    ["a user id that is not a snowflake", `altiplano:arena:a:bob:${BATTLE}`],
    ["a 21-digit user id", `altiplano:arena:a:${"1".repeat(21)}:${BATTLE}`],
    ["no battle id", `altiplano:arena:a:${ASKER}:`],
    ["no asker", `altiplano:arena:a::${BATTLE}`],
    ["an extra part", `altiplano:arena:a:${ASKER}:${BATTLE}:x`],
    ["a battle id with a slash", `altiplano:arena:a:${ASKER}:battle_../x`],
    ["over 100 characters", `altiplano:arena:a:${ASKER}:${"b".repeat(80)}`],
  ])("refuses %s", (_what, id) => {
    expect(decodeVoteId(id)).toBeNull();
  });

  it("refuses to encode what it could not decode", () => {
    expect(() => encodeVoteId({ battleId: BATTLE, askerId: "bob", winner: "a" })).toThrow(/Discord user id/);
    expect(() => encodeVoteId({ battleId: "bat/1", askerId: ASKER, winner: "a" })).toThrow(/battle id/);
  });

  it("gives four buttons in order with their labels", () => {
    expect(voteButtons(BATTLE, ASKER).map((b) => [b.label, decodeVoteId(b.customId)?.winner])).toEqual([
      ["A is better", "a"],
      ["B is better", "b"],
      ["Tie", "tie"],
      ["Both are bad", "bothbad"],
    ]);
  });
});

function battle(overrides: Partial<ArenaBattle> = {}): ArenaBattle {
  return {
    id: BATTLE,
    object: "arena.battle",
    status: "open",
    anonymous: true,
    turns: 1,
    created_at: 1_700_000_000,
    a: { model: null, conversation_id: "conv_a" },
    b: { model: null, conversation_id: "conv_b" },
    vote: null,
    ...overrides,
  };
}

describe("revealWords", () => {
  const voted = (winner: ArenaWinner) =>
    battle({ status: "voted", a: { model: "vicuna-13b-v1.5", conversation_id: "c1" }, b: { model: "vicuna-7b-v1.5", conversation_id: "c2" }, vote: { winner, voted_at: 1 } });
  it.each<[ArenaWinner, string]>([
    ["a", "Model A was `vicuna-13b-v1.5`, Model B was `vicuna-7b-v1.5` — you voted “A is better”."],
    ["b", "Model A was `vicuna-13b-v1.5`, Model B was `vicuna-7b-v1.5` — you voted “B is better”."],
    ["tie", "Model A was `vicuna-13b-v1.5`, Model B was `vicuna-7b-v1.5` — you voted “Tie”."],
    ["bothbad", "Model A was `vicuna-13b-v1.5`, Model B was `vicuna-7b-v1.5` — you voted “Both are bad”."],
  ])("after a %s vote", (winner, words) => {
    expect(revealWords(voted(winner))).toBe(words);
    expect(VOTE_LABELS[winner]).toBe(/“(.*)”/.exec(words)?.[1]);
  });

  it("never invents names the gateway did not give", () => {
    expect(revealWords(battle({ vote: { winner: "a", voted_at: 1 } }))).toBe("The models' names are not available — you voted “A is better”.");
  });
});

describe("arena errors in words", () => {
  const err = (a: ConstructorParameters<typeof GatewayCallError>[0]) => new GatewayCallError(a);
  it.each<[string, GatewayCallError, string]>([
    ["already voted", err({ message: "x", status: 409, code: "already_voted" }), "You already voted on this battle; each battle takes one vote."],
    ["a side failed", err({ message: "x", status: 409, code: "battle_not_votable" }), "One of the answers in this battle failed, so it can't be voted on. Ask again with `/arena`."],
    ["the arena lacks two serving models", err({ message: "x", status: 503, code: "arena_unavailable", retryAfterSeconds: 5 }), "The arena needs two models that can answer right now, and it doesn't have them. Please try again in a few minutes."],
    ["still storing the last turn", err({ message: "x", status: 409, code: "battle_busy", retryAfterSeconds: 1 }), "This battle's answers are still being saved. Press your vote again in a moment."],
    ["not found (or someone else's)", err({ message: "x", status: 404, code: "battle_not_found" }), "I can't find this battle any more. Ask again with `/arena`."],
    ["a battle costs two generations: rate limited", err({ message: "x", status: 429, code: "rate_limit_exceeded", retryAfterSeconds: 30 }), "You're sending messages too quickly. Please try again in 30 s."],
  ])("%s", (_what, error, words) => {
    expect(errorToWords(error)).toBe(words);
  });

  it.each<[string, ArenaReply["error"], string]>([
    ["no workers", { message: "x", type: "server_error", param: null, code: "no_workers" }, "No GPU is available to answer right now. Please try again in a few minutes."],
    ["backend failure", { message: "x", type: "server_error", param: null, code: "upstream_error" }, "The model backend failed while answering. Please try again in a moment."],
    ["no error given", null, "The model backend failed while answering. Please try again in a moment."],
  ])("a failed side: %s", (_what, error, words) => {
    expect(sideFailureWords(reply({ status: "failed", content: "", error }))).toBe(words);
  });
});

function reply(overrides: Partial<ArenaReply> = {}): ArenaReply {
  return { message_id: "msg_1", content: "An answer.", status: "complete", finish_reason: "stop", usage: null, error: null, ...overrides };
}

function result(a: Partial<ArenaReply>, b: Partial<ArenaReply>, over: Partial<ArenaBattle> = {}): ArenaTurnResult {
  return { ...battle(over), replies: { a: reply(a), b: reply(b) } };
}

describe("viewArenaPost", () => {
  it("quotes the question, labels both answers, and asks the asker for the vote", () => {
    const view = viewArenaPost({ askerId: ASKER, question: "What do llamas eat?\nAnd alpacas?", result: result({ content: "Grass." }, { content: "Hay." }) });
    expect(view).toEqual({
      votable: true,
      messages: [
        `<@${ASKER}> asked the arena:\n> What do llamas eat?\n> And alpacas?\n\n**Model A**\nGrass.`,
        "**Model B**\nHay.",
        `Which answer is better, <@${ASKER}>? Only you can vote; the models' names are shown after your vote.`,
      ],
    });
  });

  it("splits long answers to Discord's limit, each side starting its own message, fences balanced", () => {
    const code = `\`\`\`python\n${Array.from({ length: 150 }, (_, i) => `print("line ${i} of model A's program")`).join("\n")}\n\`\`\``;
    const prose = Array.from({ length: 90 }, (_, i) => `Sentence ${i} of model B's long answer.`).join("\n\n");
    const view = viewArenaPost({ askerId: ASKER, question: "Write code", result: result({ content: code }, { content: prose }) });
    expect(view.messages.length).toBeGreaterThanOrEqual(5);
    for (const m of view.messages) {
      expect(m.length).toBeLessThanOrEqual(2000);
      expect(openFenceAtEnd(m)).toBeNull();
    }
    const bStart = view.messages.findIndex((m) => m.startsWith("**Model B**\n"));
    expect(bStart).toBeGreaterThan(1);
    expect(view.messages.slice(0, bStart).join("\n")).toContain("line 149 of model A's program");
    expect(view.messages.slice(bStart).join("\n")).toContain("Sentence 89 of model B's long answer.");
  });

  it("closes a code block an answer left open before its status line", () => {
    const view = viewArenaPost({ askerId: ASKER, question: "q", result: result({ content: "```js\nlet x = 1;", status: "length", finish_reason: "length" }, {}) });
    expect(view.messages[0]).toMatch(/```js\nlet x = 1;\n```\n-# ✂ cut off at the length limit$/);
    expect(view.votable).toBe(true);
  });

  it("says when an answer is empty", () => {
    const view = viewArenaPost({ askerId: ASKER, question: "q", result: result({}, { content: "  " }) });
    expect(view.messages[1]).toBe("**Model B**\n-# (the model returned an empty answer)");
  });

  it("a failed side: says which, in words, offers no vote, and shows the names the gateway now gives", () => {
    const failed = result(
      {},
      { content: "", status: "failed", finish_reason: null, message_id: null, error: { message: "x", type: "server_error", param: null, code: "no_workers" } },
      { status: "failed", a: { model: "vicuna-13b-v1.5", conversation_id: "c1" }, b: { model: "vicuna-7b-v1.5", conversation_id: "c2" } },
    );
    const view = viewArenaPost({ askerId: ASKER, question: "q", result: failed });
    expect(view.votable).toBe(false);
    expect(view.messages[1]).toBe("**Model B**\n-# ⚠ No GPU is available to answer right now. Please try again in a few minutes.");
    expect(view.messages.at(-1)).toBe(
      "-# No vote on this one: Model B failed, so the answers can't be compared. Model A was `vicuna-13b-v1.5`, Model B was `vicuna-7b-v1.5`. Ask again with `/arena`.",
    );
  });

  it("both sides failed, names withheld: no names invented", () => {
    const gone = { content: "", status: "failed" as const, finish_reason: null, error: null };
    const view = viewArenaPost({ askerId: ASKER, question: "q", result: result(gone, gone, { status: "failed" }) });
    expect(view.votable).toBe(false);
    expect(view.messages.at(-1)).toBe("-# No vote on this one: Both models failed, so the answers can't be compared. Ask again with `/arena`.");
  });

  it("never names a model while the battle is open, even if the gateway did", () => {
    // Defensive: an open battle's names are null by contract; the view only ever shows names in the closed-battle line.
    const leaky = result({}, {}, { a: { model: "secret-model-a", conversation_id: "c1" }, b: { model: "secret-model-b", conversation_id: "c2" } });
    expect(viewArenaPost({ askerId: ASKER, question: "q", result: leaky }).messages.join("\n")).not.toMatch(/secret-model/);
  });

  it("shortens a very long question in the quote", () => {
    const view = viewArenaPost({ askerId: ASKER, question: "x".repeat(3000), result: result({}, {}) });
    expect(view.messages[0]).toContain(`> ${"x".repeat(1500)}…`);
    expect(view.messages[0]).not.toContain("x".repeat(1501));
  });
});
