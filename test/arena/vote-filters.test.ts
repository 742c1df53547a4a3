import { describe, expect, it } from "vitest";
import {
  capVotesPerVoterPerDay,
  createIdentityLeakCheck,
  filterVotes,
  mentionsIdentity,
  utcDay,
  type CapInput,
  type LeakCheckInput,
} from "../../workers/arena/vote-filters.js";

const IDENTITY_WORDS = {
  "vicuna-13b-v1.5": ["Vicuna", "LMSYS", "large model systems"],
  "llama-2-13b-chat": ["Llama", "Meta AI"],
  "no-words": [],
};

describe("mentionsIdentity: case-insensitive whole words", () => {
  it.each([
    { text: "I am Vicuna, a language model.", hit: true },
    { text: "i am VICUNA", hit: true },
    { text: "I'm vicuna-13b, trained by you-know-who", hit: true },
    { text: "Vicuna's answer", hit: true },
    { text: "(vicuna)", hit: true },
    { text: "Vicunas live in the Andes.", hit: false },
    { text: "xvicuna", hit: false },
    { text: "vicuna2", hit: false },
    { text: "Built by Large  Model\nSystems", hit: true },
    { text: "large model systemsx", hit: false },
    { text: "LMSYS.", hit: true },
    { text: "Meta  AI", hit: true },
    { text: "metaAI", hit: false },
    { text: "Ésvicuna", hit: false },
    { text: "", hit: false },
  ])("$text → $hit", ({ text, hit }) => {
    expect(mentionsIdentity(text, [...IDENTITY_WORDS["vicuna-13b-v1.5"], "Meta AI"])).toBe(hit);
  });

  it("treats regular-expression characters in a word literally", () => {
    expect(mentionsIdentity("GPT-4 (turbo)", ["gpt-4 (turbo)"])).toBe(true);
    expect(mentionsIdentity("gpt-44", ["gpt-4"])).toBe(false);
    expect(mentionsIdentity("a.b", ["a?b"])).toBe(false);
  });
});

describe("identity leak check", () => {
  const leaks = createIdentityLeakCheck(IDENTITY_WORDS);
  const vote = (answersA: string[], answersB: string[], over: Partial<LeakCheckInput> = {}): LeakCheckInput => ({
    modelA: "vicuna-13b-v1.5",
    modelB: "llama-2-13b-chat",
    answersA,
    answersB,
    ...over,
  });

  it.each([
    { label: "neither names itself", a: ["Hello!"], b: ["Hi there."], leaked: false },
    { label: "A names itself", a: ["As Vicuna, I think…"], b: ["Sure."], leaked: true },
    { label: "B names itself in a later turn", a: ["One", "Two"], b: ["First", "I was made by Meta AI."], leaked: true },
    { label: "A names B's model (not its own)", a: ["Llama is another model."], b: ["ok"], leaked: false },
    { label: "B claims to be A's model", a: ["ok"], b: ["I am Vicuna."], leaked: false },
  ])("$label → $leaked", ({ a, b, leaked }) => {
    expect(leaks(vote(a, b))).toBe(leaked);
  });

  it("ignores models without identity words and models missing from the map", () => {
    expect(leaks(vote(["no-words here"], ["anything"], { modelA: "no-words", modelB: "unlisted" }))).toBe(false);
  });

  it("lets a precomputed flag decide, and refuses a vote with neither flag nor texts", () => {
    expect(leaks({ modelA: "vicuna-13b-v1.5", modelB: "llama-2-13b-chat", identityLeaked: true })).toBe(true);
    expect(leaks(vote(["I am Vicuna"], [], { identityLeaked: false }))).toBe(false);
    expect(() => leaks({ modelA: "vicuna-13b-v1.5", modelB: "llama-2-13b-chat" })).toThrow(TypeError);
  });
});

describe("votes per voter per UTC day", () => {
  const DAY = Date.UTC(2026, 0, 15);
  const H = 3_600_000;
  const v = (id: string, voterId: string, castAtMs: number): CapInput => ({ id, voterId, castAtMs });

  it("keeps the first N of each voter's day by time, in input order", () => {
    const votes = [v("3", "alice", DAY + 3 * H), v("1", "alice", DAY + 1 * H), v("4", "alice", DAY + 4 * H), v("2", "alice", DAY + 2 * H), v("b1", "bob", DAY + 5 * H)];
    expect(capVotesPerVoterPerDay(votes, 2).map((x) => x.id)).toEqual(["1", "2", "b1"]);
  });

  it("starts a new quota at UTC midnight", () => {
    const votes = [v("late", "alice", DAY - 1), v("a", "alice", DAY), v("b", "alice", DAY + 1), v("c", "alice", DAY + 24 * H - 1), v("next", "alice", DAY + 24 * H)];
    expect(utcDay(DAY) - utcDay(DAY - 1)).toBe(1);
    expect(capVotesPerVoterPerDay(votes, 2).map((x) => x.id)).toEqual(["late", "a", "b", "next"]);
  });

  it("breaks a tie in time by vote id, whatever the load order", () => {
    const votes = [v("z", "alice", DAY), v("m", "alice", DAY), v("a", "alice", DAY)];
    expect(capVotesPerVoterPerDay(votes, 1).map((x) => x.id)).toEqual(["a"]);
    expect(capVotesPerVoterPerDay([...votes].reverse(), 1).map((x) => x.id)).toEqual(["a"]);
  });

  it.each([
    { cap: 0, kept: 0 },
    { cap: 1, kept: 1 },
    { cap: 3, kept: 3 },
    { cap: Infinity, kept: 5 },
  ])("cap $cap keeps $kept of 5 same-day votes", ({ cap, kept }) => {
    const votes = Array.from({ length: 5 }, (_, i) => v(`v${i}`, "carol", DAY + i));
    expect(capVotesPerVoterPerDay(votes, cap)).toHaveLength(kept);
  });

  it("rejects a negative or fractional cap", () => {
    expect(() => capVotesPerVoterPerDay([], -1)).toThrow(RangeError);
    expect(() => capVotesPerVoterPerDay([], 1.5)).toThrow(RangeError);
  });
});

describe("filterVotes: both filters together", () => {
  it("drops leaks first, so a leaked vote does not use up the voter's quota, and counts each drop", () => {
    const DAY = Date.UTC(2026, 0, 15);
    const base = { modelA: "vicuna-13b-v1.5", modelB: "llama-2-13b-chat", voterId: "alice", answersB: ["ok"] };
    const votes = [
      { ...base, id: "1", castAtMs: DAY + 1, answersA: ["I am Vicuna"] },
      { ...base, id: "2", castAtMs: DAY + 2, answersA: ["fine"] },
      { ...base, id: "3", castAtMs: DAY + 3, answersA: ["fine"] },
      { ...base, id: "4", castAtMs: DAY + 4, answersA: ["fine"] },
    ];
    const result = filterVotes(votes, { identityWords: IDENTITY_WORDS, maxVotesPerVoterPerDay: 2 });
    expect(result.kept.map((x) => x.id)).toEqual(["2", "3"]);
    expect(result.dropped).toEqual({ identityLeak: 1, voterCap: 1 });
  });
});
