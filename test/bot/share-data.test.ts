/**
 * `/share-data` end to end: the real gateway stack, the bot in-process with a real discord.js
 * client, the loopback fake Discord playing the members. The thread's starter may give consent,
 * another member may not, a member with Manage Server may withdraw it; read back through the
 * gateway's API with the bot's key. Plus the permission rule and the starter lookup as tables.
 */
import { PermissionFlagsBits } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";
import { runDiscordCommands } from "../../scripts/discord-commands.js";
import { startBot, type RunningBot } from "../../bot/bot.js";
import { parseBotEnv } from "../../bot/config.js";
import { CONSENT_NOTHING_YET_WORDS, CONSENT_WHERE_WORDS, mayConsent, threadStarterId, type ConsentActor } from "../../discord/consent.js";
import { GatewayClient } from "../../bot/gateway-client.js";
import type { Logger } from "../../bot/logger.js";
import { startFakeDiscord, type FakeDiscord, type FakeMessage, type FakeUser } from "../fake-discord/index.js";

describe("mayConsent", () => {
  const base: ConsentActor = { isDm: false, userId: "1", ownerId: "1", hasManageGuild: false };
  it.each<[string, ConsentActor, boolean]>([
    ["DM: the user", { ...base, isDm: true, ownerId: null }, true],
    ["DM: the user, whatever else is said", { isDm: true, userId: "1", ownerId: "2", hasManageGuild: false }, true],
    ["thread: its starter", base, true],
    ["thread: another member", { ...base, userId: "2" }, false],
    ["thread: another member with Manage Server", { ...base, userId: "2", hasManageGuild: true }, true],
    ["thread: starter unknown, plain member", { ...base, ownerId: null }, false],
    ["thread: starter unknown, Manage Server", { ...base, ownerId: null, hasManageGuild: true }, true],
    ["thread: starter with Manage Server", { ...base, hasManageGuild: true }, true],
  ])("%s", (_name, actor, expected) => {
    expect(mayConsent(actor)).toBe(expected);
  });
});

describe("threadStarterId", () => {
  it.each<[string, Parameters<typeof threadStarterId>[0], string | null]>([
    ["a mention: the message's author", { authorId: "7", authorIsBot: false, interactionUserId: null }, "7"],
    ["/chat: the member who ran it", { authorId: "bot", authorIsBot: true, interactionUserId: "8" }, "8"],
    ["a bot message without a command", { authorId: "bot", authorIsBot: true, interactionUserId: null }, null],
    ["the starter message is gone", null, null],
  ])("%s", (_name, starter, expected) => {
    expect(threadStarterId(starter)).toBe(expected);
  });
});

let stack: Stack;
let discord: FakeDiscord;
let bot: RunningBot;
let gateway: GatewayClient;
let owner: FakeUser;
let member: FakeUser;
let moderator: FakeUser;
const logLines: string[] = [];

const logger: Logger = {
  info: (m, d) => logLines.push(`info ${m} ${JSON.stringify(d ?? "")}`),
  warn: (m, d) => logLines.push(`warn ${m} ${d instanceof Error ? d.message : JSON.stringify(d ?? "")}`),
  error: (m, d) => logLines.push(`error ${m} ${d instanceof Error ? d.message : JSON.stringify(d ?? "")}`),
};

describe("/share-data end to end", () => {
  beforeAll(async () => {
    stack = await startStack({ sims: 1, sim: { reply: "echo-prompt", fast: true } });
    const botKey = await stack.createKey("bot", "discord bot");
    discord = await startFakeDiscord();
    const env = {
      DISCORD_TOKEN: discord.token,
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_REST_API: discord.restApiUrl,
      DISCORD_DEV_GUILD_ID: discord.guildId,
      ALTIPLANO_URL: stack.url,
      ALTIPLANO_API_KEY: botKey,
      ALTIPLANO_MAX_TOKENS: "200",
    };
    // As an operator would: commands are registered by the script, not by the bot.
    expect((await runDiscordCommands([], env)).exitCode).toBe(0);
    const config = parseBotEnv(env);
    gateway = new GatewayClient({ baseUrl: stack.url, apiKey: botKey });
    // Plain members have no permissions; the moderator has Manage Server only.
    owner = discord.addUser({ username: "olga", permissions: "0" });
    member = discord.addUser({ username: "mateo", permissions: "0" });
    moderator = discord.addUser({ username: "mod", permissions: PermissionFlagsBits.ManageGuild.toString() });
    bot = await startBot(config, { logger });
  }, 120_000);

  afterAll(async () => {
    await bot?.stop();
    await discord?.stop();
    await stack?.stop();
    const problems = logLines.filter((l) => !l.startsWith("info"));
    if (problems.length > 0) console.log(`bot warnings/errors during the run:\n${problems.join("\n")}`);
  });

  const isBot = (m: FakeMessage) => m.authorId === discord.botUserId;

  /** Runs `/share-data` as `userId` in `channelId` and resolves with its private answer. */
  async function shareData(userId: string, channelId: string, consent?: "on" | "off"): Promise<FakeMessage> {
    const command = discord.simulateInteraction({ kind: "command", name: "share-data", options: consent ? { consent } : {}, channelId, userId });
    const answer = await discord.waitForMessage((m) => m.interactionId === command.id && m.content !== "", 20_000);
    expect(discord.state.isEphemeral(answer)).toBe(true);
    return answer;
  }

  /** A thread the bot started from `user`'s mention, once its first answer is finished. */
  async function threadStartedBy(user: FakeUser, prompt: string): Promise<string> {
    const ask = discord.simulateUserMessage({ channelId: discord.generalChannelId, content: prompt, authorId: user.id, mentionsBot: true });
    await discord.waitForMessage((m) => m.id === ask.id && m.threadId !== null);
    const threadId = discord.state.messages.get(ask.id)?.threadId;
    if (!threadId) throw new Error("no thread");
    await discord.waitForMessage((m) => m.channelId === threadId && isBot(m) && m.interactionId === null && m.components.length > 0 && !m.content.includes("still writing"), 30_000);
    return threadId;
  }

  async function consentOf(threadId: string): Promise<boolean> {
    const conv = await gateway.findConversation({ externalId: `discord:${threadId}` });
    if (!conv) throw new Error(`no conversation for ${threadId}`);
    return (await gateway.getConversation(conv.id)).training_consent;
  }

  it("lets the starter turn it on, refuses another member, lets a member with Manage Server turn it off", async () => {
    const threadId = await threadStartedBy(owner, "what do llamas eat?");
    expect(await consentOf(threadId)).toBe(false);

    expect((await shareData(member.id, threadId)).content).toBe(
      `This thread is not shared for training. <@${owner.id}> (who started this thread) or a member with Manage Server can change it with \`/share-data consent:on|off\`.`,
    );

    expect((await shareData(owner.id, threadId, "on")).content).toBe(
      "This thread may now be exported as training data. Withdraw it any time with `/share-data consent:off`.",
    );
    expect(await consentOf(threadId)).toBe(true);

    expect((await shareData(member.id, threadId, "off")).content).toBe(
      `Only <@${owner.id}> (who started this thread) or a member with Manage Server can decide whether this thread is shared for training.`,
    );
    expect(await consentOf(threadId)).toBe(true);

    expect((await shareData(moderator.id, threadId, "off")).content).toBe(
      "This thread will not be exported as training data; it is left out of every later export. `/share-data consent:on` allows it again.",
    );
    expect(await consentOf(threadId)).toBe(false);

    expect((await shareData(owner.id, threadId, "off")).content).toContain("will not be exported as training data (it already was)");
  }, 60_000);

  it("knows the starter of a /chat thread (the member who ran /chat)", async () => {
    const chat = discord.simulateInteraction({ kind: "command", name: "chat", options: { prompt: "tell me about alpacas" }, channelId: discord.generalChannelId, userId: member.id });
    const quoted = await discord.waitForMessage((m) => m.interactionId === chat.id && m.threadId !== null, 20_000);
    const threadId = quoted.threadId ?? "";
    await discord.waitForMessage((m) => m.channelId === threadId && isBot(m) && m.interactionId === null && m.components.length > 0 && !m.content.includes("still writing"), 30_000);

    expect((await shareData(owner.id, threadId, "on")).content).toContain(`Only <@${member.id}> (who started this thread)`);
    expect(await consentOf(threadId)).toBe(false);
    expect((await shareData(member.id, threadId, "on")).content).toBe(
      "This thread may now be exported as training data. Withdraw it any time with `/share-data consent:off`.",
    );
    expect(await consentOf(threadId)).toBe(true);
  }, 60_000);

  it("says where it works outside the bot's threads and DMs, and when there is nothing yet", async () => {
    expect((await shareData(owner.id, discord.generalChannelId, "on")).content).toBe(CONSENT_WHERE_WORDS);
    const threadId = await threadStartedBy(owner, "hello there");
    const reset = discord.simulateInteraction({ kind: "command", name: "reset", channelId: threadId, userId: owner.id });
    await discord.waitForMessage((m) => m.interactionId === reset.id && m.content.startsWith("Done"), 20_000);
    expect((await shareData(owner.id, threadId, "on")).content).toBe(CONSENT_NOTHING_YET_WORDS);
  }, 60_000);
});
