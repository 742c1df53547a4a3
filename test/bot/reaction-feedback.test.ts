/**
 * Reactions as feedback, below Discord: which emoji count, how one user's thumbs become a rating,
 * the bounded reply memory, and the calls the recorder makes to the gateway (scripted) for
 * sequences of reactions.
 */
import { describe, expect, it } from "vitest";
import type { Rating } from "../../wire/conversations.js";
import { FeedbackRecorder, type SetFeedback, type ThumbReaction } from "../../bot/feedback-recorder.js";
import { GatewayCallError } from "../../discord/gateway-error.js";
import type { Logger } from "../../bot/logger.js";
import { BoundedLru } from "../../bot/lru.js";
import { applyThumbChange, ratingForEmoji, ratingOf, retryNotFound, type ShownThumb, type ThumbChange } from "../../bot/reaction-rating.js";

describe("ratingForEmoji", () => {
  const cases: Array<[string | null, Rating | null]> = [
    ["👍", "up"],
    ["👎", "down"],
    ["👍🏽", "up"],
    ["👎🏿", "down"],
    ["👍\u{FE0F}", "up"],
    ["❤️", null],
    ["✅", null],
    ["thumbsup", null],
    ["", null],
    [null, null],
  ];
  it.each(cases)("%s → %s", (emoji, rating) => expect(ratingForEmoji(emoji)).toBe(rating));
});

describe("one user's thumbs → rating", () => {
  const add = (discordMessageId: string, rating: Rating): ThumbChange => ({ kind: "add", discordMessageId, rating });
  const remove = (discordMessageId: string, rating: Rating): ThumbChange => ({ kind: "remove", discordMessageId, rating });
  const cases: Array<[string, ThumbChange[], Rating | null]> = [
    ["nothing", [], null],
    ["👍", [add("m1", "up")], "up"],
    ["👍 then 👎: the latest wins", [add("m1", "up"), add("m1", "down")], "down"],
    ["👎 then 👍", [add("m1", "down"), add("m1", "up")], "up"],
    ["👍 removed", [add("m1", "up"), remove("m1", "up")], null],
    ["👍, 👎, 👎 removed: the 👍 still shows", [add("m1", "up"), add("m1", "down"), remove("m1", "down")], "up"],
    ["👍, 👎, 👍 removed: the 👎 still shows", [add("m1", "up"), add("m1", "down"), remove("m1", "up")], "down"],
    ["both removed", [add("m1", "up"), add("m1", "down"), remove("m1", "up"), remove("m1", "down")], null],
    ["removing what is not there changes nothing", [add("m1", "up"), remove("m1", "down")], "up"],
    ["a split reply: 👍 on part 1, 👎 on part 2", [add("m1", "up"), add("m2", "down")], "down"],
    ["a split reply: 👍 on both parts, one removed", [add("m1", "up"), add("m2", "up"), remove("m1", "up")], "up"],
    ["the same add twice is one thumb", [add("m1", "up"), add("m1", "up"), remove("m1", "up")], null],
  ];
  it.each(cases)("%s", (_name, changes, rating) => {
    const shown = changes.reduce<ShownThumb[]>((s, c) => applyThumbChange(s, c), []);
    expect(ratingOf(shown)).toBe(rating);
  });
});

describe("retryNotFound", () => {
  const cases: Array<[number, number, boolean]> = [
    [1_000, 1_000, true],
    [1_000, 15_999, true],
    [1_000, 16_000, false],
    [1_000, 600_000, false],
  ];
  it.each(cases)("ended at %d, now %d → %s", (replyEndedAtMs, nowMs, retry) => expect(retryNotFound({ replyEndedAtMs, nowMs, graceMs: 15_000 })).toBe(retry));
});

describe("BoundedLru", () => {
  it("keeps at most its capacity, forgetting the least recently used", () => {
    const lru = new BoundedLru<string, number>(3);
    lru.set("a", 1);
    lru.set("b", 2);
    lru.set("c", 3);
    expect(lru.get("a")).toBe(1); // a is now the most recent
    lru.set("d", 4); // b goes
    expect([lru.has("a"), lru.has("b"), lru.has("c"), lru.has("d")]).toEqual([true, false, true, true]);
    expect(lru.size).toBe(3);
    lru.set("c", 30); // re-set counts as use
    lru.set("e", 5); // a goes
    expect(lru.has("a")).toBe(false);
    expect(lru.get("c")).toBe(30);
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => new BoundedLru(0)).toThrow(RangeError);
    expect(() => new BoundedLru(1.5)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------- the recorder

interface Call {
  conversationId: string;
  messageId: string;
  rating: Rating | null;
  user: string;
}

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

function recorderWith(setFeedback: SetFeedback, extra: { maxTrackedMessages?: number; nowMs?: () => number; logger?: Logger } = {}) {
  const sleeps: number[] = [];
  const recorder = new FeedbackRecorder({
    setFeedback,
    logger: extra.logger ?? quiet,
    maxTrackedMessages: extra.maxTrackedMessages,
    nowMs: extra.nowMs,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { recorder, sleeps };
}

function recordingGateway() {
  const calls: Call[] = [];
  const setFeedback: SetFeedback = async (args) => {
    calls.push(args);
  };
  return { calls, setFeedback };
}

const thumb = (kind: "add" | "remove", discordMessageId: string, userId: string, rating: Rating): ThumbReaction => ({ kind, discordMessageId, userId, rating });

describe("FeedbackRecorder", () => {
  it("sends nothing until the reply has ended, then the user's rating on the reply's assistant message", async () => {
    const { calls, setFeedback } = recordingGateway();
    const { recorder } = recorderWith(setFeedback);
    const reply = recorder.trackReply({ conversationId: "conv_1", assistantMessageId: "msg_a" });
    reply.addMessage("d1");
    reply.addMessage("d2");
    const pending = recorder.onThumb(thumb("add", "d2", "u1", "up"));
    await Promise.resolve();
    expect(calls).toEqual([]);
    reply.end();
    expect(await pending).toBe("recorded");
    expect(calls).toEqual([{ conversationId: "conv_1", messageId: "msg_a", rating: "up", user: "u1" }]);
  });

  it("ignores reactions on messages it does not know, and removals it has nothing to undo for", async () => {
    const { calls, setFeedback } = recordingGateway();
    const { recorder } = recorderWith(setFeedback);
    const reply = recorder.trackReply({ conversationId: "conv_1", assistantMessageId: "msg_a" });
    reply.addMessage("d1");
    reply.end();
    expect(await recorder.onThumb(thumb("add", "unknown", "u1", "up"))).toBe("ignored");
    expect(await recorder.onThumb(thumb("remove", "d1", "u1", "up"))).toBe("ignored");
    expect(calls).toEqual([]);
  });

  it("👍 then 👎 in quick succession ends as down, calls one at a time, the last one down", async () => {
    const calls: Call[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const setFeedback: SetFeedback = async (args) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      calls.push(args);
      inFlight--;
    };
    const { recorder } = recorderWith(setFeedback);
    const reply = recorder.trackReply({ conversationId: "conv_1", assistantMessageId: "msg_a" });
    reply.addMessage("d1");
    reply.end();
    const first = recorder.onThumb(thumb("add", "d1", "u1", "up"));
    await new Promise((r) => setTimeout(r, 1)); // the 👍 call is on its way
    const second = recorder.onThumb(thumb("add", "d1", "u1", "down"));
    await Promise.all([first, second]);
    expect(maxInFlight).toBe(1);
    expect(calls.map((c) => c.rating)).toEqual(["up", "down"]);
  });

  it("keeps each user's rating their own", async () => {
    const { calls, setFeedback } = recordingGateway();
    const { recorder } = recorderWith(setFeedback);
    const reply = recorder.trackReply({ conversationId: "conv_1", assistantMessageId: "msg_a" });
    reply.addMessage("d1");
    reply.end();
    await recorder.onThumb(thumb("add", "d1", "alice", "up"));
    await recorder.onThumb(thumb("add", "d1", "bob", "down"));
    await recorder.onThumb(thumb("remove", "d1", "bob", "down"));
    expect(calls.map((c) => [c.user, c.rating])).toEqual([
      ["alice", "up"],
      ["bob", "down"],
      ["bob", null],
    ]);
  });

  it("retries a 404 right after the reply ended (a stopped reply is stored a moment later), not long after", async () => {
    let nowMs = 0;
    let failures = 2;
    const calls: Call[] = [];
    const setFeedback: SetFeedback = async (args) => {
      calls.push(args);
      if (failures-- > 0) throw new GatewayCallError({ message: "no such message", status: 404, code: "message_not_found" });
    };
    const { recorder, sleeps } = recorderWith(setFeedback, { nowMs: () => nowMs });
    const reply = recorder.trackReply({ conversationId: "conv_1", assistantMessageId: "msg_a" });
    reply.addMessage("d1");
    reply.end();
    expect(await recorder.onThumb(thumb("add", "d1", "u1", "up"))).toBe("recorded");
    expect(calls).toHaveLength(3);
    expect(sleeps).toHaveLength(2);

    // Long after the end (regenerated or reset): one call, logged, not retried.
    nowMs = 60_000;
    failures = 100;
    const infos: string[] = [];
    const later = recorderWith(setFeedback, { nowMs: () => nowMs, logger: { ...quiet, info: (m) => infos.push(m) } });
    const old = later.recorder.trackReply({ conversationId: "conv_1", assistantMessageId: "msg_old" });
    nowMs = 0;
    old.addMessage("d9");
    old.end();
    nowMs = 60_000;
    calls.length = 0;
    expect(await later.recorder.onThumb(thumb("add", "d9", "u1", "up"))).toBe("failed");
    expect(calls).toHaveLength(1);
    expect(later.sleeps).toEqual([]);
    expect(infos.some((m) => m.includes("no longer in its conversation"))).toBe(true);
  });

  it("logs a failed call without throwing, and the user's next reaction sends the wanted rating again", async () => {
    const calls: Call[] = [];
    let down = true;
    const setFeedback: SetFeedback = async (args) => {
      calls.push(args);
      if (down) throw new GatewayCallError({ message: "gateway unreachable", status: 0 });
    };
    const warnings: string[] = [];
    const { recorder } = recorderWith(setFeedback, { logger: { ...quiet, warn: (m) => warnings.push(m) } });
    const reply = recorder.trackReply({ conversationId: "conv_1", assistantMessageId: "msg_a" });
    reply.addMessage("d1");
    reply.end();
    expect(await recorder.onThumb(thumb("add", "d1", "u1", "up"))).toBe("failed");
    expect(warnings).toEqual(["could not record feedback"]);
    down = false;
    expect(await recorder.onThumb(thumb("add", "d1", "u1", "down"))).toBe("recorded");
    expect(calls.map((c) => c.rating)).toEqual(["up", "down"]);
  });

  it("forgets the least recently used Discord messages beyond its cap", async () => {
    const { calls, setFeedback } = recordingGateway();
    const { recorder } = recorderWith(setFeedback, { maxTrackedMessages: 2 });
    for (const n of [1, 2, 3]) {
      const reply = recorder.trackReply({ conversationId: "conv_1", assistantMessageId: `msg_${n}` });
      reply.addMessage(`d${n}`);
      reply.end();
    }
    expect(recorder.isTracked("d1")).toBe(false);
    expect(await recorder.onThumb(thumb("add", "d1", "u1", "up"))).toBe("ignored");
    expect(await recorder.onThumb(thumb("add", "d3", "u1", "up"))).toBe("recorded");
    expect(calls.map((c) => c.messageId)).toEqual(["msg_3"]);
  });
});
