import { describe, expect, it } from "vitest";
import { createDedupeState } from "../../export/clean.js";
import type { DropReason, ExportConversation, ExportMessage } from "../../export/conversation.js";
import { addToSummary, createSummary, processConversation, type ExportOptions } from "../../export/pipeline.js";
import type { OpenAiRecord, ShareGptRecord } from "../../export/sharegpt.js";
import { tokenCounterFor } from "../../export/split.js";

const u = (content: string): ExportMessage => ({ role: "user", content, status: "complete", feedback: { up: 0, down: 0 } });
const a = (content: string, status: ExportMessage["status"] = "complete", up = 0, down = 0): ExportMessage => ({
  role: "assistant",
  content,
  status,
  feedback: { up, down },
});
const conversation = (id: string, messages: ExportMessage[], system: string | null = null): ExportConversation => ({
  id,
  model: "vicuna-13b-v1.5",
  created_at: 1_700_000_000,
  system_prompt: system,
  messages,
});

const counter = tokenCounterFor({ id: "vicuna-13b-v1.5", template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 512 });
const options: ExportOptions = { maxTokens: 512, countTokens: counter };

describe("processConversation", () => {
  it("chains every step into ShareGPT records", () => {
    const conv = conversation(
      "conv-1",
      [
        a("stray greeting"),
        u("My mail is ana@example.com, can you format <b>this</b>?"),
        a("<p>Sure: <strong>this</strong></p>"),
        u("and this?"),
        a("partial", "cancelled"),
        u("Key sk-proj-abcdefghijklmnop1234 leaked, call +44 20 7946 0958"),
        a("Rotate it now. Keep `a * b` and snake_case as is.", "length"),
      ],
      "Support bot for user ana@example.com",
    );
    const result = processConversation(conv, options, createDedupeState());
    expect(result.dropped).toBeNull();
    expect(result.split).toBe("train");
    expect(result.records).toEqual([
      {
        id: "conv-1_0",
        model: "vicuna-13b-v1.5",
        system: "Support bot for user [EMAIL]",
        conversations: [
          { from: "human", value: "My mail is [EMAIL], can you format **this**?" },
          { from: "gpt", value: "Sure: **this**" },
          { from: "human", value: "Key [SECRET] leaked, call [PHONE]" },
          { from: "gpt", value: "Rotate it now. Keep `a * b` and snake_case as is." },
        ],
      },
    ]);
    expect(result.stats).toMatchObject({ pairsKept: 2, messagesDropped: 3, pairsTooLong: 0, scrub: { email: 2, phone: 1, secret: 1, ip: 0, user: 0 } });
    expect(result.stats.tokens).toBeGreaterThan(0);
    expect(result.stats.tokens).toBeLessThanOrEqual(512);
  });

  it("writes the openai format", () => {
    const result = processConversation(conversation("c", [u("What is a llama?"), a("A South American camelid.")], "Be brief."), { ...options, format: "openai" }, createDedupeState());
    const record = result.records[0] as OpenAiRecord;
    expect(record).toEqual({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "What is a llama?" },
        { role: "assistant", content: "A South American camelid." },
      ],
    });
  });

  const good = [u("What is a llama?"), a("A South American camelid.", "complete", 2, 0)];
  const drops: Array<{ name: string; conv: ExportConversation; options?: Partial<ExportOptions>; reason: DropReason }> = [
    { name: "no complete turns", conv: conversation("d1", [u("q"), a("r", "failed")]), reason: "no_complete_turns" },
    { name: "no messages", conv: conversation("d2", []), reason: "no_complete_turns" },
    { name: "feedback not-down", conv: conversation("d3", [u("What is a llama?"), a("A fish.", "complete", 0, 2)]), options: { feedback: "not-down" }, reason: "feedback_down" },
    { name: "feedback up", conv: conversation("d4", [u("What is a llama?"), a("A camelid.", "complete", 0, 0)]), options: { feedback: "up" }, reason: "feedback_not_up" },
    { name: "too short", conv: conversation("d5", [u("hi"), a("hello")]), reason: "too_short" },
    { name: "min chars configurable", conv: conversation("d6", good), options: { minChars: 1000 }, reason: "too_short" },
    { name: "blocked", conv: conversation("d7", good), options: { blockList: ["camelid"] }, reason: "blocked" },
    { name: "every pair too long", conv: conversation("d8", good), options: { maxTokens: 20 }, reason: "too_long" },
  ];
  it.each(drops)("drops: $name", ({ conv, options: extra, reason }) => {
    const result = processConversation(conv, { ...options, ...extra }, createDedupeState());
    expect(result.dropped).toBe(reason);
    expect(result.records).toEqual([]);
  });

  it("keeps a conversation that passes its feedback mode", () => {
    for (const feedback of ["any", "not-down", "up"] as const) {
      expect(processConversation(conversation("f", good), { ...options, feedback }, createDedupeState()).dropped).toBeNull();
    }
  });

  it("dedupes across conversations with the caller's state", () => {
    const state = createDedupeState();
    expect(processConversation(conversation("x1", good), options, state).dropped).toBeNull();
    expect(processConversation(conversation("x2", [u("what is a  LLAMA?"), a("a south american camelid. ")]), options, state).dropped).toBe("duplicate");
  });

  it("splits long conversations into segments that all land in one split", () => {
    const messages = Array.from({ length: 30 }, (_, i) => [u(`Question ${i}: ${"tell me more about llamas ".repeat(5)}`), a(`Answer ${i}: ${"Llamas are camelids from the Andes. ".repeat(8)}`)]).flat();
    const result = processConversation(conversation("long", messages), { ...options, testFraction: 0.5 }, createDedupeState());
    expect(result.dropped).toBeNull();
    expect(result.records.length).toBeGreaterThan(1);
    const records = result.records as ShareGptRecord[];
    expect(records.map((r) => r.id)).toEqual(records.map((_, i) => `long_${i}`));
    expect(records.flatMap((r) => r.conversations.map((t) => t.value))).toEqual(messages.map((m) => m.content));
    expect(result.stats.pairsKept).toBe(30);
  });
});

describe("Summary", () => {
  it("accumulates reads, kept, drops by reason, segments by split, tokens and scrub counts", () => {
    const state = createDedupeState();
    const summary = createSummary();
    const convs = [
      conversation("s1", [u("Mail me at bob@example.org please"), a("Sure, noted your address.")]),
      conversation("s2", [u("q"), a("r", "cancelled")]),
      conversation("s3", [u("Mail me at bob@example.org please"), a("Sure, noted your address.")]),
      conversation("s4", [u("Tell me about llamas"), a("x ".repeat(2000))]),
    ];
    const results = convs.map((c) => processConversation(c, options, state));
    for (const r of results) addToSummary(summary, r);
    expect(summary).toMatchObject({
      conversationsRead: 4,
      conversationsKept: 1,
      droppedByReason: { no_complete_turns: 1, duplicate: 1, too_long: 1, too_short: 0, blocked: 0, feedback_down: 0, feedback_not_up: 0 },
      messagesDropped: 2,
      pairsKept: 1,
      pairsTooLong: 1,
      segmentsWritten: { train: 1, test: 0 },
      scrub: { email: 2, phone: 0, secret: 0, ip: 0, user: 0 },
    });
    expect(summary.tokensWritten).toBe(results[0]!.stats.tokens);
  });
});
