import { describe, expect, it } from "vitest";
import { accessContextOf, commandOf, hasManageGuild, InteractionSchema, isEphemeral, placeOf, userIdOf, type Interaction } from "../../workers/discord/interaction.js";
import { retryAfterMs } from "../../workers/discord/webhook-client.js";

/** The pure parts of the interactions endpoint, by table: where a command was run, what it asks, and 429 waits. */
const base = { type: 2, id: "1", application_id: "2", token: "t" };
const parse = (extra: Record<string, unknown>): Interaction => InteractionSchema.parse({ ...base, ...extra });

describe("placeOf", () => {
  it.each([
    { name: "guild text channel", extra: { guild_id: "9", channel: { id: "5", type: 0 } }, place: "channel" },
    { name: "announcement channel", extra: { guild_id: "9", channel: { id: "5", type: 5 } }, place: "channel" },
    { name: "public thread", extra: { guild_id: "9", channel: { id: "5", type: 11 } }, place: "thread" },
    { name: "private thread", extra: { guild_id: "9", channel: { id: "5", type: 12 } }, place: "thread" },
    { name: "announcement thread", extra: { guild_id: "9", channel: { id: "5", type: 10 } }, place: "thread" },
    { name: "DM", extra: { channel: { id: "5", type: 1 } }, place: "dm" },
    { name: "group DM", extra: { channel: { id: "5", type: 3 } }, place: "dm" },
    { name: "no channel object, no guild", extra: { channel_id: "5" }, place: "dm" },
    { name: "no channel object, in a guild", extra: { guild_id: "9", channel_id: "5" }, place: "channel" },
  ] as const)("$name → $place", ({ extra, place }) => {
    expect(placeOf(parse(extra))).toBe(place);
  });
});

describe("commandOf", () => {
  const cmd = (name: string, options: Array<{ name: string; value: unknown }> = []) => parse({ data: { name, options } });
  it.each([
    { name: "chat with a prompt", i: cmd("chat", [{ name: "prompt", value: "hi" }]), expected: { name: "chat", prompt: "hi", model: null } },
    { name: "chat with a model", i: cmd("chat", [{ name: "prompt", value: "hi" }, { name: "model", value: "m" }]), expected: { name: "chat", prompt: "hi", model: "m" } },
    { name: "chat without its required prompt", i: cmd("chat"), expected: null },
    { name: "chat with a non-text prompt", i: cmd("chat", [{ name: "prompt", value: 3 }]), expected: null },
    { name: "reset", i: cmd("reset"), expected: { name: "reset" } },
    { name: "model, listing", i: cmd("model"), expected: { name: "model", wanted: null } },
    { name: "model, switching", i: cmd("model", [{ name: "name", value: "m" }]), expected: { name: "model", wanted: "m" } },
    { name: "usage", i: cmd("usage"), expected: { name: "usage" } },
    { name: "arena", i: cmd("arena", [{ name: "question", value: "q" }]), expected: { name: "arena", question: "q" } },
    { name: "share-data, showing", i: cmd("share-data"), expected: { name: "share-data", consent: null, hasManageGuild: false } },
    { name: "share-data on", i: cmd("share-data", [{ name: "consent", value: "on" }]), expected: { name: "share-data", consent: true, hasManageGuild: false } },
    { name: "share-data off", i: cmd("share-data", [{ name: "consent", value: "off" }]), expected: { name: "share-data", consent: false, hasManageGuild: false } },
    { name: "unknown", i: cmd("dance"), expected: null },
  ])("$name", ({ i, expected }) => {
    expect(commandOf(i)).toEqual(expected);
  });

  it.each([
    [{ name: "chat", prompt: "x", model: null }, false],
    [{ name: "arena", question: "x" }, false],
    [{ name: "reset" }, true],
    [{ name: "model", wanted: null }, true],
    [{ name: "usage" }, true],
    [{ name: "share-data", consent: null, hasManageGuild: false }, true],
  ] as const)("isEphemeral(%j) = %s", (command, expected) => {
    expect(isEphemeral(command)).toBe(expected);
  });
});

describe("hasManageGuild", () => {
  const withPermissions = (permissions?: string) => parse({ member: { user: { id: "7" }, ...(permissions === undefined ? {} : { permissions }) } });
  it.each([
    { name: "Manage Server (0x20)", permissions: "32", expected: true },
    { name: "Administrator (0x8) implies it", permissions: "8", expected: true },
    { name: "many permissions without either", permissions: String((1n << 40n) | 0x400n | 0x800n), expected: false },
    { name: "a high bit next to Manage Server", permissions: String((1n << 50n) | 32n), expected: true },
    { name: "none", permissions: "0", expected: false },
    { name: "no permissions sent (a DM)", permissions: undefined, expected: false },
  ])("$name", ({ permissions, expected }) => {
    expect(hasManageGuild(withPermissions(permissions))).toBe(expected);
  });
});

describe("userIdOf", () => {
  it.each([
    { name: "member in a guild", extra: { member: { user: { id: "7" } } }, id: "7" },
    { name: "user in a DM", extra: { user: { id: "8" } }, id: "8" },
    { name: "neither", extra: {}, id: null },
  ])("$name", ({ extra, id }) => {
    expect(userIdOf(parse(extra))).toBe(id);
  });
});

describe("accessContextOf", () => {
  it.each([
    { name: "a thread counts as its parent channel too", extra: { guild_id: "9", channel: { id: "5", type: 11, parent_id: "4" }, member: { user: { id: "7" }, roles: ["3"] } }, ctx: { guildId: "9", channelIds: ["5", "4"], roleIds: ["3"] } },
    { name: "a channel without a parent", extra: { guild_id: "9", channel: { id: "5", type: 0, parent_id: null }, member: { user: { id: "7" } } }, ctx: { guildId: "9", channelIds: ["5"], roleIds: [] } },
    { name: "a DM has no guild", extra: { channel_id: "5", user: { id: "7" } }, ctx: { guildId: null, channelIds: ["5"], roleIds: [] } },
  ])("$name", ({ extra, ctx }) => {
    expect(accessContextOf(parse(extra))).toEqual(ctx);
  });
});

describe("retryAfterMs", () => {
  it.each([
    { name: "body's fractional seconds win", body: '{"retry_after":1.234,"global":false}', header: "5", ms: 1234 },
    { name: "header when the body has none", body: "{}", header: "2", ms: 2000 },
    { name: "header when the body is not JSON", body: "slow down", header: "0.5", ms: 500 },
    { name: "a second when neither says", body: "", header: null, ms: 1000 },
    { name: "a negative body value is ignored", body: '{"retry_after":-1}', header: "3", ms: 3000 },
  ])("$name", ({ body, header, ms }) => {
    expect(retryAfterMs(body, header)).toBe(ms);
  });
});
