/**
 * The bot's pure decisions, by tables: error wording, edit throttling, backoff, access control,
 * configuration parsing, conversation mapping, usage wording and the reply view.
 */
import { describe, expect, it } from "vitest";
import { accessDeniedWords, decideAccess, type AccessContext, type AccessDecision } from "../../discord/access.js";
import { backoffDelayMs } from "../../bot/backoff.js";
import { parseBotEnv, type AccessConfig } from "../../bot/config.js";
import { conversationKeyFor, stripBotMention, threadNameFor } from "../../discord/conversation-key.js";
import { decideEdit } from "../../discord/edit-schedule.js";
import { errorToWords, formatSeconds } from "../../discord/errors-to-words.js";
import { GatewayCallError } from "../../discord/gateway-error.js";
import { STATUS_RESERVE_CHARS, viewReply } from "../../discord/reply-view.js";
import { openFenceAtEnd } from "../../discord/split-message.js";
import { usageToWords } from "../../discord/usage-words.js";

type RefusalReason = Extract<AccessDecision, { allowed: false }>["reason"];

const err = (a: ConstructorParameters<typeof GatewayCallError>[0]) => new GatewayCallError(a);

describe("errorToWords", () => {
  // The whole sentence a user sees for each failure: the retry time as formatSeconds writes it,
  // the quota wording, which command helps; never the gateway's own message ("x" here).
  const cases: Array<[string, unknown, string]> = [
    ["rate limited with Retry-After", err({ message: "x", status: 429, code: "rate_limit_exceeded", retryAfterSeconds: 12 }), "You're sending messages too quickly. Please try again in 12 s."],
    ["rate limited, fractional Retry-After rounds up", err({ message: "x", status: 429, code: "rate_limit_exceeded", retryAfterSeconds: 0.2 }), "You're sending messages too quickly. Please try again in 1 s."],
    ["rate limited for minutes", err({ message: "x", status: 429, code: "rate_limit_exceeded", retryAfterSeconds: 300 }), "You're sending messages too quickly. Please try again in 5 min."],
    ["rate limited for hours", err({ message: "x", status: 429, code: "rate_limit_exceeded", retryAfterSeconds: 7500 }), "You're sending messages too quickly. Please try again in 2 h 5 min."],
    ["rate limited without Retry-After", err({ message: "x", status: 429, code: "rate_limit_exceeded" }), "You're sending messages too quickly. Please try again in a little while."],
    ["rate limited with Retry-After 0", err({ message: "x", status: 429, code: "rate_limit_exceeded", retryAfterSeconds: 0 }), "You're sending messages too quickly. Please try again in a little while."],
    ["quota used up (code)", err({ message: "x", status: 429, code: "insufficient_quota", shouldRetry: false }), "You've used up your allowance for now. Check `/usage` to see when it resets."],
    ["quota used up (x-should-retry only): no retry time offered", err({ message: "x", status: 429, code: null, shouldRetry: false, retryAfterSeconds: 5 }), "You've used up your allowance for now. Check `/usage` to see when it resets."],
    ["no workers", err({ message: "x", status: 503, code: "no_workers" }), "No GPU is available to answer right now. Please try again in a few minutes."],
    ["workers unavailable (any other 503)", err({ message: "x", status: 503, code: "workers_unavailable" }), "No GPU is available to answer right now. Please try again in a few minutes."],
    ["overloaded", err({ message: "x", status: 503, code: "overloaded" }), "All the GPUs are busy right now. Please try again in a minute."],
    ["busy conversation", err({ message: "x", status: 409, code: "conversation_busy" }), "I'm still answering the previous message here. Send yours again when I'm done."],
    ["too long", err({ message: "x", status: 413 }), "That's too long for me to read in one go. Try a shorter message, or `/reset` to start fresh."],
    ["gone", err({ message: "x", status: 404 }), "I lost track of this conversation. Send your message again, or `/reset` to start fresh."],
    ["bad key", err({ message: "x", status: 401 }), "I'm not allowed to use the chat service right now. Please tell the server admins."],
    ["forbidden", err({ message: "x", status: 403 }), "I'm not allowed to use the chat service right now. Please tell the server admins."],
    ["bad request", err({ message: "x", status: 400 }), "The chat service couldn't accept that message. Try rephrasing it, or `/reset` to start fresh."],
    ["backend 500", err({ message: "x", status: 500 }), "The model backend failed while answering. Please try again in a moment."],
    ["backend 502 mid-stream", err({ message: "x", status: 502 }), "The model backend failed while answering. Please try again in a moment."],
    ["unreachable gateway", err({ message: "x", status: 0 }), "I can't reach the chat service right now. Please try again in a minute."],
    ["connection lost mid-reply", err({ message: "x", status: 0, code: "connection_lost" }), "I lost the connection to the chat service while answering. Please try again."],
    ["any other exception", new TypeError("Cannot read properties of undefined"), "Something went wrong on my side while answering. Please try again."],
  ];
  for (const [name, error, words] of cases) {
    it(name, () => {
      const text = errorToWords(error);
      expect(text).toBe(words);
      expect(text).not.toMatch(/undefined|TypeError|Error:|\bat\b.*:\d+/);
    });
  }

  it.each([
    [1, "1 s"],
    [59.1, "60 s"],
    [119, "119 s"],
    [120, "2 min"],
    [3599, "60 min"],
    [7200, "2 h"],
    [7500, "2 h 5 min"],
  ])("formatSeconds(%s) = %s", (s, text) => expect(formatSeconds(s)).toBe(text));
});

describe("decideEdit", () => {
  const base = { nowMs: 10_000, intervalMs: 1000, hasPendingChange: true, isEditInFlight: false };
  it.each([
    ["first text goes out at once", { ...base, lastEditAtMs: null }, { kind: "now" }],
    ["nothing new: idle", { ...base, lastEditAtMs: 9000, hasPendingChange: false }, { kind: "idle" }],
    ["interval passed: now", { ...base, lastEditAtMs: 9000 }, { kind: "now" }],
    ["interval not passed: wait the rest", { ...base, lastEditAtMs: 9700 }, { kind: "wait", delayMs: 700 }],
    ["edit in flight: its completion decides", { ...base, lastEditAtMs: 8000, isEditInFlight: true }, { kind: "idle" }],
  ])("%s", (_name, input, expected) => expect(decideEdit(input)).toEqual(expected));
});

describe("backoffDelayMs", () => {
  it.each([
    [1, 0, 125],
    [1, 0.999, 250],
    [2, 0.5, 375],
    [3, 0, 500],
    [10, 0.999, 3998],
    [10, 0, 2000],
  ])("attempt %s, random %s -> %s ms", (attempt, random, ms) =>
    expect(backoffDelayMs({ attempt, baseMs: 250, maxMs: 4000, random })).toBe(ms));
});

describe("decideAccess", () => {
  const open = { allowedGuildIds: [], allowedChannelIds: [], allowedRoleIds: [], allowDms: true };
  const ctx = { guildId: "1", channelIds: ["10", "11"], roleIds: ["100"] };
  it.each([
    ["no lists: everyone", open, ctx, true],
    ["DMs allowed", open, { guildId: null, channelIds: ["5"], roleIds: [] }, true],
    ["DMs off", { ...open, allowDms: false }, { guildId: null, channelIds: ["5"], roleIds: [] }, false],
    ["guild listed", { ...open, allowedGuildIds: ["1"] }, ctx, true],
    ["guild not listed", { ...open, allowedGuildIds: ["2"] }, ctx, false],
    ["thread whose parent channel is listed", { ...open, allowedChannelIds: ["11"] }, ctx, true],
    ["channel not listed", { ...open, allowedChannelIds: ["12"] }, ctx, false],
    ["member has a listed role", { ...open, allowedRoleIds: ["100", "200"] }, ctx, true],
    ["member lacks the roles", { ...open, allowedRoleIds: ["200"] }, ctx, false],
    ["guild lists do not apply in DMs", { ...open, allowedGuildIds: ["2"], allowedRoleIds: ["200"] }, { guildId: null, channelIds: ["5"], roleIds: [] }, true],
  ])("%s", (_name, config, context, allowed) => expect(decideAccess(config, context).allowed).toBe(allowed));

  // Each refusal, decided from configuration, and the exact words the bot replies with.
  const refusals: Array<[string, AccessConfig, AccessContext, RefusalReason, string]> = [
    ["DMs off", { ...open, allowDms: false }, { guildId: null, channelIds: ["5"], roleIds: [] }, "dms_off", "I don't answer direct messages here. Mention me in a server channel instead."],
    ["guild not listed", { ...open, allowedGuildIds: ["2"] }, ctx, "guild", "I'm not enabled on this server."],
    ["channel not listed", { ...open, allowedChannelIds: ["12"] }, ctx, "channel", "I'm not enabled in this channel. Try one of the channels the server admins set up for me."],
    ["member lacks the roles", { ...open, allowedRoleIds: ["200"] }, ctx, "role", "You don't have a role that may use me. Ask the server admins for access."],
    ["the guild is checked before the channel and role", { ...open, allowedGuildIds: ["2"], allowedChannelIds: ["12"], allowedRoleIds: ["200"] }, ctx, "guild", "I'm not enabled on this server."],
    ["the channel is checked before the role", { ...open, allowedChannelIds: ["12"], allowedRoleIds: ["200"] }, ctx, "channel", "I'm not enabled in this channel. Try one of the channels the server admins set up for me."],
  ];
  it.each(refusals)("refused, %s: says so in words", (_name, config, context, reason, words) => {
    const decision = decideAccess(config, context);
    expect(decision).toEqual({ allowed: false, reason });
    if (decision.allowed) throw new Error("unreachable");
    expect(accessDeniedWords(decision.reason)).toBe(words);
  });
});

describe("parseBotEnv", () => {
  const env = {
    DISCORD_TOKEN: "t",
    DISCORD_APPLICATION_ID: "123",
    ALTIPLANO_URL: "http://127.0.0.1:8787/",
    ALTIPLANO_API_KEY: "sk-bot",
  };
  it("applies defaults and trims the gateway URL", () => {
    const c = parseBotEnv(env);
    expect(c.gatewayUrl).toBe("http://127.0.0.1:8787");
    expect(c.editIntervalMs).toBe(1000);
    expect(c.access).toEqual({ allowedGuildIds: [], allowedChannelIds: [], allowedRoleIds: [], allowDms: true });
    expect(c.discordRestApi).toBeUndefined();
  });
  it("reads access lists and switches", () => {
    const c = parseBotEnv({ ...env, DISCORD_ALLOWED_GUILDS: "1, 2", DISCORD_ALLOWED_ROLES: "9", DISCORD_ALLOW_DMS: "false", EDIT_INTERVAL_MS: "1500", DISCORD_REST_API: "http://127.0.0.1:9/api" });
    expect(c.access).toEqual({ allowedGuildIds: ["1", "2"], allowedChannelIds: [], allowedRoleIds: ["9"], allowDms: false });
    expect(c.editIntervalMs).toBe(1500);
    expect(c.discordRestApi).toBe("http://127.0.0.1:9/api");
  });
  it("names every bad variable", () => {
    expect(() => parseBotEnv({ ...env, DISCORD_TOKEN: "", DISCORD_ALLOWED_CHANNELS: "general", EDIT_INTERVAL_MS: "5" })).toThrow(
      /DISCORD_TOKEN[\s\S]*DISCORD_ALLOWED_CHANNELS[\s\S]*EDIT_INTERVAL_MS/,
    );
  });
});

describe("conversation mapping", () => {
  it("threads are shared, DMs are private to their user", () => {
    expect(conversationKeyFor({ channelId: "55", isDm: false, userId: "7" })).toEqual({ externalId: "discord:55" });
    expect(conversationKeyFor({ channelId: "56", isDm: true, userId: "7" })).toEqual({ externalId: "discord:56", owner: "7" });
  });
  it.each([
    ["<@42> hello", "hello"],
    ["<@!42> hi <@42>", "hi"],
    ["<@43> hey", "<@43> hey"],
  ])("stripBotMention(%j)", (input, out) => expect(stripBotMention(input, "42")).toBe(out));
  it.each([
    ["  what   is\na llama ", "what is a llama"],
    ["", "fallback"],
    ["x".repeat(200), `${"x".repeat(89)}…`],
  ])("threadNameFor(%j)", (input, out) => expect(threadNameFor(input, "fallback")).toBe(out));
});

describe("usageToWords", () => {
  it.each([
    [null, /not available/],
    [{}, /No usage recorded/],
    [{ object: "usage", user: "7", requests_today: 12, tokens: { today: 3400, remaining: 196600 } }, /Requests today:\*\* 12[\s\S]*Tokens today:\*\* 3,400[\s\S]*Tokens remaining:\*\* 196,600/],
  ])("%j", (usage, words) => expect(usageToWords(usage)).toMatch(words));
});

describe("viewReply", () => {
  it("while writing: text, a still-writing line and a Stop button", () => {
    expect(viewReply({ text: "Hel", phase: { kind: "writing" }, assistantMessageId: null })).toEqual([
      { content: "Hel\n-# ✎ still writing…", buttons: [{ kind: "stop" }] },
    ]);
  });
  it("complete: the text alone with Regenerate", () => {
    expect(viewReply({ text: "Hello", phase: { kind: "complete" }, assistantMessageId: "msg_1" })).toEqual([
      { content: "Hello", buttons: [{ kind: "regenerate", assistantMessageId: "msg_1" }] },
    ]);
  });
  it("failed before any text: just the words, no buttons", () => {
    expect(viewReply({ text: "", phase: { kind: "failed", words: "No GPU." }, assistantMessageId: null })).toEqual([{ content: "No GPU.", buttons: [] }]);
  });
  it("stopped partway: the partial text, marked, with Regenerate", () => {
    const [v] = viewReply({ text: "Half an ans", phase: { kind: "stopped" }, assistantMessageId: "m" });
    expect(v?.content).toBe("Half an ans\n-# ⏹ stopped");
    expect(v?.buttons).toEqual([{ kind: "regenerate", assistantMessageId: "m" }]);
  });
  it("a long reply inside a code block: buttons on the last message, status after the closed fence", () => {
    const text = `\`\`\`js\n${"let a = 1;\n".repeat(400)}`;
    const views = viewReply({ text, phase: { kind: "writing" }, assistantMessageId: null });
    expect(views.length).toBeGreaterThan(2);
    for (const v of views) {
      expect(v.content.length).toBeLessThanOrEqual(2000);
      expect(openFenceAtEnd(v.content)).toBeNull();
    }
    expect(views.slice(0, -1).every((v) => v.buttons.length === 0)).toBe(true);
    expect(views.at(-1)?.content.endsWith("```\n-# ✎ still writing…")).toBe(true);
    expect(STATUS_RESERVE_CHARS).toBeGreaterThan("-# ✎ still writing…".length);
  });
});
