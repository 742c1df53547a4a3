/**
 * The arena page's battle state, event by event: both sides streaming at once, the replies, a side
 * that fails, a connection that drops, the vote that names the models, and a stored battle read
 * back after a reload. Also its error words.
 */
import { describe, expect, it } from "vitest";
import type { ArenaBattle, ArenaBattleWithMessages, ArenaReply, ArenaStreamEvent } from "../../wire/arena.js";
import type { ConversationMessage } from "../../wire/conversations.js";
import { ApiError } from "../../web/src/api/errors.js";
import {
  applyEvent,
  arenaErrorWords,
  askQuestion,
  canAsk,
  emptyView,
  endTurn,
  isStreaming,
  modelOf,
  viewFromStored,
  voteLabel,
  voteState,
  withBattle,
  type BattleView,
} from "../../web/src/arena/battle.js";

const battle = (patch: Partial<ArenaBattle> = {}): ArenaBattle => ({
  id: "bat_1",
  object: "arena.battle",
  status: "open",
  anonymous: true,
  turns: 1,
  created_at: 1_790_000_000,
  a: { model: null, conversation_id: "conv_a" },
  b: { model: null, conversation_id: "conv_b" },
  vote: null,
  ...patch,
});

const reply = (content: string, status: ArenaReply["status"] = "complete", message = "The GPU worker went away."): ArenaReply => ({
  message_id: content === "" ? null : "msg_x",
  content,
  status,
  finish_reason: status === "complete" ? "stop" : status === "length" ? "length" : null,
  usage: null,
  error: status === "failed" ? { message, type: "server_error", param: null, code: "upstream_error" } : null,
});

const run = (view: BattleView, events: ArenaStreamEvent[]): BattleView => events.reduce(applyEvent, view);

const FIRST_TURN: ArenaStreamEvent[] = [
  { type: "battle", battle: battle() },
  { type: "delta", slot: "a", content: "Two " },
  { type: "delta", slot: "b", content: "Llamas " },
  { type: "delta", slot: "a", content: "llamas" },
  { type: "delta", slot: "b", content: "hum" },
];

describe("a battle, event by event", () => {
  it("streams both sides at once into the last question, each delta to its own slot", () => {
    const view = run(askQuestion(emptyView(), "Name two llamas"), FIRST_TURN);
    expect(view.turns).toEqual([
      { question: "Name two llamas", a: { content: "Two llamas", status: "streaming", error: null }, b: { content: "Llamas hum", status: "streaming", error: null } },
    ]);
    expect(isStreaming(view)).toBe(true);
    expect(voteState(view)).toBe("waiting");
    expect(canAsk(view)).toBe(false);
  });

  it("waits for both replies before the vote opens; the reply's stored text wins over the deltas", () => {
    let view = run(askQuestion(emptyView(), "q"), FIRST_TURN);
    view = applyEvent(view, { type: "reply", slot: "b", reply: reply("Llamas hum.", "length") });
    expect(view.turns[0]!.b).toEqual({ content: "Llamas hum.", status: "length", error: null });
    expect(voteState(view)).toBe("waiting");
    view = applyEvent(view, { type: "reply", slot: "a", reply: reply("Two llamas.") });
    view = applyEvent(view, { type: "battle", battle: battle() });
    expect(isStreaming(view)).toBe(false);
    expect(voteState(view)).toBe("ready");
    expect(canAsk(view)).toBe(true);
    // A delta after the side's reply changes nothing.
    expect(applyEvent(view, { type: "delta", slot: "a", content: "late" }).turns[0]!.a.content).toBe("Two llamas.");
  });

  it("a follow-up adds a question both sides answer, keeping the earlier answers", () => {
    let view = run(askQuestion(emptyView(), "q1"), [
      ...FIRST_TURN,
      { type: "reply", slot: "a", reply: reply("A1") },
      { type: "reply", slot: "b", reply: reply("B1") },
    ]);
    view = run(askQuestion(view, "q2"), [
      { type: "battle", battle: battle({ turns: 2 }) },
      { type: "delta", slot: "b", content: "B2" },
    ]);
    expect(view.turns.map((t) => [t.question, t.a.content, t.a.status, t.b.content, t.b.status])).toEqual([
      ["q1", "A1", "complete", "B1", "complete"],
      ["q2", "", "streaming", "B2", "streaming"],
    ]);
    expect(view.battle?.turns).toBe(2);
  });

  it.each<[string, ArenaStreamEvent[], string]>([
    [
      "a side's failed reply",
      [{ type: "reply", slot: "a", reply: reply("", "failed", "No GPU workers are free.") }, { type: "reply", slot: "b", reply: reply("B") }, { type: "battle", battle: battle({ status: "failed", a: { model: "m1", conversation_id: "c" }, b: { model: "m2", conversation_id: "d" } }) }],
      "No GPU workers are free.",
    ],
    ["a failed reply before the battle says so", [{ type: "reply", slot: "b", reply: reply("half", "failed") }], "The GPU worker went away."],
  ])("%s makes the battle not votable and shows the side's error", (_name, events, message) => {
    const view = run(askQuestion(emptyView(), "q"), [{ type: "battle", battle: battle() }, ...events]);
    expect(voteState(view)).toBe("not_votable");
    expect(canAsk(view)).toBe(false);
    const failed = view.turns[0]!.a.status === "failed" ? view.turns[0]!.a : view.turns[0]!.b;
    expect(failed.error).toBe(message);
  });

  it("a battle the gateway closed as failed is not votable even when both sides look fine here", () => {
    const view = run(askQuestion(emptyView(), "q"), [
      { type: "reply", slot: "a", reply: reply("A") },
      { type: "reply", slot: "b", reply: reply("B") },
      { type: "battle", battle: battle({ status: "failed" }) },
    ]);
    expect(voteState(view)).toBe("not_votable");
  });

  it("a connection that closed mid-way fails the sides still streaming, and only those", () => {
    const view = endTurn(
      run(askQuestion(emptyView(), "q"), [...FIRST_TURN, { type: "reply", slot: "b", reply: reply("B") }]),
      "The answer was cut off.",
    );
    expect(view.turns[0]!.a).toEqual({ content: "Two llamas", status: "failed", error: "The answer was cut off." });
    expect(view.turns[0]!.b).toEqual({ content: "B", status: "complete", error: null });
    expect(voteState(view)).toBe("not_votable");
  });

  it("keeps the models unnamed until the vote's answer names them", () => {
    let view = run(askQuestion(emptyView(), "q"), [...FIRST_TURN, { type: "reply", slot: "a", reply: reply("A") }, { type: "reply", slot: "b", reply: reply("B") }]);
    expect([modelOf(view, "a"), modelOf(view, "b")]).toEqual([null, null]);
    view = withBattle(view, battle({ status: "voted", a: { model: "vicuna-13b-v1.5", conversation_id: "conv_a" }, b: { model: "vicuna-7b-v1.5", conversation_id: "conv_b" }, vote: { winner: "b", voted_at: 1_790_000_100 } }));
    expect([modelOf(view, "a"), modelOf(view, "b")]).toEqual(["vicuna-13b-v1.5", "vicuna-7b-v1.5"]);
    expect(voteState(view)).toBe("voted");
    expect(canAsk(view)).toBe(false);
  });

  it.each<[BattleView, ReturnType<typeof voteState>]>([
    [emptyView(), "empty"],
    [askQuestion(emptyView(), "q"), "waiting"],
    [run(askQuestion(emptyView(), "q"), [{ type: "reply", slot: "a", reply: reply("A") }, { type: "reply", slot: "b", reply: reply("B") }]), "waiting"], // no battle yet
    [{ battle: battle({ vote: { winner: "tie", voted_at: 1 } }), systemPrompt: null, turns: [] }, "voted"],
  ])("vote state %#", (view, state) => {
    expect(voteState(view)).toBe(state);
  });

  it("names the four votes as the buttons do", () => {
    expect((["a", "b", "tie", "bothbad"] as const).map(voteLabel)).toEqual(["A is better", "B is better", "Tie", "Both are bad"]);
  });
});

const message = (role: "user" | "assistant", content: string, status: ConversationMessage["status"] = role === "user" ? null : "complete"): ConversationMessage => ({
  id: `msg_${content}`,
  object: "conversation.message",
  role,
  content,
  status,
  created_at: 1_790_000_000,
  feedback: null,
});

describe("viewFromStored", () => {
  it("pairs each side's questions and answers into turns", () => {
    const stored: ArenaBattleWithMessages = {
      ...battle({ turns: 2 }),
      messages: {
        a: [message("user", "q1"), message("assistant", "A1"), message("user", "q2"), message("assistant", "A2", "length")],
        b: [message("user", "q1"), message("assistant", "B1"), message("user", "q2"), message("assistant", "B2")],
      },
    };
    const view = viewFromStored(stored);
    expect(view.turns).toEqual([
      { question: "q1", a: { content: "A1", status: "complete", error: null }, b: { content: "B1", status: "complete", error: null } },
      { question: "q2", a: { content: "A2", status: "length", error: null }, b: { content: "B2", status: "complete", error: null } },
    ]);
    expect(view.battle).toEqual(battle({ turns: 2 }));
    expect(voteState(view)).toBe("ready");
  });

  it("shows a side that stored no answer (it failed before its first token) as failed", () => {
    const view = viewFromStored({
      ...battle({ status: "failed" }),
      messages: { a: [message("user", "q1"), message("assistant", "A1")], b: [message("user", "q1")] },
    });
    expect(view.turns[0]!.b.status).toBe("failed");
    expect(view.turns[0]!.b.error).toBe("This side gave no answer.");
    expect(voteState(view)).toBe("not_votable");
  });
});

describe("arenaErrorWords", () => {
  it.each([
    [new ApiError(409, "Already voted", "already_voted"), "This battle already has a vote."],
    [new ApiError(409, "Not votable", "battle_not_votable"), "This battle cannot be voted on: one side failed, or it is closed."],
    [new ApiError(503, "no workers", "no_workers"), "No GPU workers are available for the arena's models right now. Try again in a little while."],
    [new ApiError(400, "The arena needs two models.", "arena_unavailable"), "The arena needs two models."],
  ])("%s → %j", (err, words) => {
    expect(arenaErrorWords(err)).toBe(words);
  });
});
