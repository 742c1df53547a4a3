/**
 * The bot end to end: the real gateway stack (wrangler dev + vLLM simulator in echo-prompt mode),
 * the bot started in-process with a real discord.js client, and the loopback fake Discord playing
 * the users. Each case uses its own users and threads, so the cases do not depend on order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";
import { runDiscordCommands } from "../../scripts/discord-commands.js";
import { startBot, type RunningBot } from "../../bot/bot.js";
import { parseBotEnv, type BotConfig } from "../../bot/config.js";
import { GatewayClient } from "../../bot/gateway-client.js";
import type { Logger } from "../../bot/logger.js";
import { openFenceAtEnd } from "../../discord/split-message.js";
import { BUTTON_IDS } from "../../bot/stream-renderer.js";
import { mergeHistograms, quantileUpperBound, type HistogramSnapshot } from "../../bot/histogram.js";
import { startFakeDiscord, type FakeDiscord, type FakeMessage } from "../fake-discord/index.js";
import { waitFor } from "../support/wait.js";

const EDIT_INTERVAL_MS = 250;
const STILL_WRITING = "still writing";
/** Per-end-user request limit configured in the gateway for the rate-limit case. */
const END_USER_REQUESTS_PER_MINUTE = 6;

let stack: Stack;
let discord: FakeDiscord;
let bot: RunningBot;
let config: BotConfig;
let gateway: GatewayClient;
/** First-token-to-first-edit times of every bot started here (each restart starts a fresh histogram). */
let firstEdit: HistogramSnapshot | null = null;
const collectFirstEdit = () => {
  const h = bot.metrics().firstEdit;
  firstEdit = firstEdit ? mergeHistograms(firstEdit, h) : h;
};
const logLines: string[] = [];

const logger: Logger = {
  info: (m, d) => logLines.push(`info ${m} ${JSON.stringify(d ?? "")}`),
  warn: (m, d) => logLines.push(`warn ${m} ${d instanceof Error ? d.message : JSON.stringify(d ?? "")}`),
  error: (m, d) => logLines.push(`error ${m} ${d instanceof Error ? d.message : JSON.stringify(d ?? "")}`),
};

beforeAll(async () => {
  stack = await startStack({
    sims: 1,
    // Real pacing (not `fast`) so replies stream over several edits: ~4 ms per token.
    sim: { reply: "echo-prompt", ttftBaseMs: 80, prefillMsPerToken: 0, itlMs: 4, itlJitterMs: 0 },
    // A short client stall bound: a Stop that breaks the socket mid-write is noticed in 2 s, not 10.
    vars: { END_USER_LIMIT_REQUESTS_PER_MINUTE: String(END_USER_REQUESTS_PER_MINUTE), CLIENT_STALL_TIMEOUT_MS: "2000" },
  });
  const botKey = await stack.createKey("bot", "discord bot");
  discord = await startFakeDiscord();
  const env = {
    DISCORD_TOKEN: discord.token,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_REST_API: discord.restApiUrl,
    DISCORD_DEV_GUILD_ID: discord.guildId,
    ALTIPLANO_URL: stack.url,
    ALTIPLANO_API_KEY: botKey,
    EDIT_INTERVAL_MS: String(EDIT_INTERVAL_MS),
    ALTIPLANO_MAX_TOKENS: "1500",
    SHUTDOWN_GRACE_MS: "3000",
  };
  // As an operator would: commands are registered by the script, not by the bot.
  expect((await runDiscordCommands([], env)).exitCode).toBe(0);
  config = parseBotEnv(env);
  gateway = new GatewayClient({ baseUrl: stack.url, apiKey: botKey });
  bot = await startBot(config, { logger });
});

afterAll(async () => {
  if (bot) collectFirstEdit();
  await bot?.stop();
  await discord?.stop();
  await stack?.stop();
  const problems = logLines.filter((l) => !l.startsWith("info"));
  if (problems.length > 0) console.log(`bot warnings/errors during the run:\n${problems.join("\n")}`);
  if (firstEdit && firstEdit.count > 0) {
    const ms = (q: number) => `<= ${((quantileUpperBound(firstEdit!, q) ?? 0) * 1000).toFixed(0)} ms`;
    console.log(
      `bot: first token received -> first Discord message visible: median ${ms(0.5)}, p95 ${ms(0.95)}, mean ${((firstEdit.sum / firstEdit.count) * 1000).toFixed(1)} ms over ${firstEdit.count} replies`,
    );
  }
});

// ---------------------------------------------------------------- helpers

const isBot = (m: FakeMessage) => m.authorId === discord.botUserId;
const buttonIds = (m: FakeMessage) => m.components.flatMap((r) => r.components.map((c) => c.custom_id ?? ""));
const hasRegenerate = (m: FakeMessage) => buttonIds(m).some((id) => id.startsWith(BUTTON_IDS.regeneratePrefix));
const hasStop = (m: FakeMessage) => buttonIds(m).includes(BUTTON_IDS.stop);

/** The bot's messages in a channel, oldest first (interaction replies excluded). */
function botReplies(channelId: string): FakeMessage[] {
  return discord.messagesIn(channelId).filter((m) => isBot(m) && m.interactionId === null);
}

/** Waits until the bot has finished a reply in `channelId` after its first `afterCount` messages there; returns the reply's messages. */
async function finishedReply(channelId: string, afterCount = 0): Promise<FakeMessage[]> {
  const isFinished = (m: FakeMessage) => !m.content.includes(STILL_WRITING) && !hasStop(m);
  await discord.waitForMessage((m) => {
    if (m.channelId !== channelId || !isBot(m) || m.interactionId !== null) return false;
    const replies = botReplies(channelId);
    return replies.length > afterCount && replies.at(-1)?.id === m.id && isFinished(m);
  }, 30_000);
  // The last message of the reply carries the buttons; the ones before it are continuations.
  return botReplies(channelId).slice(afterCount);
}

async function threadFor(message: FakeMessage): Promise<string> {
  await discord.waitForMessage((m) => m.id === message.id && m.threadId !== null);
  const threadId = discord.state.messages.get(message.id)?.threadId;
  if (!threadId) throw new Error("no thread");
  return threadId;
}

/** Mentions the bot with a prompt long enough to stream for seconds, and presses Stop once the reply shows. */
async function askLongThenStop(user: { id: string }, word: string): Promise<string> {
  const longPrompt = `Please repeat: ${Array.from({ length: 350 }, (_, i) => `${word}${i}`).join(" ")}`;
  const ask = discord.simulateUserMessage({ channelId: discord.generalChannelId, content: longPrompt, authorId: user.id, mentionsBot: true });
  const threadId = await threadFor(ask);
  const streaming = await discord.waitForMessage((m) => m.channelId === threadId && isBot(m) && hasStop(m), 30_000);
  discord.simulateInteraction({ kind: "button", customId: BUTTON_IDS.stop, messageId: streaming.id, channelId: threadId, userId: user.id });
  return threadId;
}

async function conversationOf(channelId: string, user?: string) {
  const conv = await gateway.findConversation({ externalId: `discord:${channelId}`, user });
  if (!conv) throw new Error(`no conversation for ${channelId}`);
  return gateway.getConversation(conv.id, user);
}

/** The last assistant message of the channel's conversation (as `owner` sees it, for DMs). */
async function lastAnswerIn(channelId: string, owner?: string): Promise<{ conversationId: string; messageId: string }> {
  const conv = await conversationOf(channelId, owner);
  const answer = conv.messages.filter((m) => m.role === "assistant").at(-1);
  if (!answer) throw new Error(`no answer in ${channelId}`);
  return { conversationId: conv.id, messageId: answer.id };
}

/** `user`'s rating of an answer, read back through the gateway as that end user (`GET …?user=`). */
async function ratingBy(answer: { conversationId: string; messageId: string }, user: string): Promise<string | null> {
  const conv = await gateway.getConversation(answer.conversationId, user);
  return conv.messages.find((m) => m.id === answer.messageId)?.feedback?.rating ?? null;
}

/** Waits until `user`'s rating of `answer` reads `expected` through the gateway. */
async function ratingBecomes(answer: { conversationId: string; messageId: string }, user: string, expected: "up" | "down" | null): Promise<void> {
  let last: string | null = null;
  await waitFor(
    async () => {
      last = await ratingBy(answer, user);
      return last === expected ? true : undefined;
    },
    15_000,
    `rating ${String(expected)} by ${user} (last read: ${String(last)})`,
  );
}

const react = (messageId: string, userId: string, emoji: string) => discord.simulateReaction({ messageId, userId, emoji });
const unreact = (messageId: string, userId: string, emoji: string) => discord.simulateReaction({ messageId, userId, emoji, remove: true });

// ---------------------------------------------------------------- cases

describe("the Discord bot against the real gateway and simulator", () => {
  it("finds the slash commands the script registered in the dev guild, and says they match", () => {
    const names = discord.rest.commands.filter((c) => c.scope === discord.guildId).map((c) => c.name);
    expect(names.sort()).toEqual(["arena", "chat", "model", "reset", "share-data", "usage"]);
    // One write: the script's. The bot only read them.
    expect(discord.rest.commandWrites).toEqual([{ scope: discord.guildId, count: 6 }]);
    expect(logLines).toContainEqual(expect.stringContaining(`slash commands registered in guild ${discord.guildId} match this version`));
  });

  it("answers a mention in a new thread, streamed through edits, and continues the thread with its context", async () => {
    const alice = discord.addUser({ username: "alice" });
    const ask = discord.simulateUserMessage({ channelId: discord.generalChannelId, content: "What do llamas eat? (first question)", authorId: alice.id, mentionsBot: true });
    const threadId = await threadFor(ask);
    const [reply] = await finishedReply(threadId);
    if (!reply) throw new Error("no reply");

    // echo-prompt: the model's answer is the prompt it received.
    expect(reply.content).toContain("USER: What do llamas eat? (first question) ASSISTANT:");
    expect(hasRegenerate(reply)).toBe(true);
    // Typing was shown in the thread before the first text arrived.
    const typedAt = discord.state.typing.find((t) => t.channelId === threadId)?.atMs;
    const log = discord.editLog.filter((e) => e.messageId === reply.id);
    expect(typedAt).toBeDefined();
    expect(typedAt ?? Infinity).toBeLessThan(log[0]?.atMs ?? 0);
    // Streamed: first shown while still writing, then edited to the final text.
    expect(log[0]?.kind).toBe("create");
    expect(log[0]?.content).toContain(STILL_WRITING);
    expect(log.at(-1)?.content).toBe(reply.content);
    expect(log.length).toBeGreaterThanOrEqual(2);
    // Throttled: streaming edits (all but the final one) are at least the interval apart.
    const streaming = log.slice(0, -1);
    for (let i = 1; i < streaming.length; i++) {
      expect((streaming[i]?.atMs ?? 0) - (streaming[i - 1]?.atMs ?? 0)).toBeGreaterThanOrEqual(EDIT_INTERVAL_MS - 50);
    }

    // A follow-up in the thread (no mention needed, from another member) carries the earlier turns.
    const bob = discord.addUser({ username: "bob" });
    discord.simulateUserMessage({ channelId: threadId, content: "And what about alpacas? (second question)", authorId: bob.id });
    const second = await finishedReply(threadId, 1);
    const text = second.map((m) => m.content).join("");
    expect(text).toContain("USER: What do llamas eat? (first question) ASSISTANT:");
    expect(text).toContain("USER: And what about alpacas? (second question) ASSISTANT:");

    const conv = await conversationOf(threadId);
    expect(conv.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(conv.user).toBeNull();
  });

  it("splits a long reply with a code block into messages that each render the code correctly", async () => {
    const carol = discord.addUser({ username: "carol" });
    const lines = Array.from({ length: 110 }, (_, i) => `print("line ${String(i).padStart(3, "0")} of the program")`);
    const prompt = `Review this:\n\`\`\`python\n${lines.join("\n")}\n\`\`\`\nThanks!`;
    const ask = discord.simulateUserMessage({ channelId: discord.generalChannelId, content: prompt, authorId: carol.id, mentionsBot: true });
    const threadId = await threadFor(ask);
    const reply = await finishedReply(threadId);

    expect(reply.length).toBeGreaterThanOrEqual(2);
    for (const m of reply) {
      expect(m.content.length).toBeLessThanOrEqual(2000);
      expect(openFenceAtEnd(m.content)).toBeNull();
    }
    expect(reply[1]?.content.startsWith("```python\n")).toBe(true);
    // Every line of the program arrives once, in order, across the messages.
    const all = reply.map((m) => m.content).join("\n");
    const found = lines.map((l) => all.indexOf(l));
    expect(found.every((pos) => pos >= 0)).toBe(true);
    expect([...found].sort((a, b) => a - b)).toEqual(found);
    expect(hasRegenerate(reply.at(-1) as FakeMessage)).toBe(true);
    expect(reply.slice(0, -1).every((m) => m.components.length === 0)).toBe(true);
  });

  it("stops a generation with the Stop button, keeping the partial reply, then regenerates it", async () => {
    const dave = discord.addUser({ username: "dave" });
    const threadId = await askLongThenStop(dave, "word");
    const stopped = await discord.waitForMessage((m) => m.channelId === threadId && isBot(m) && m.content.includes("⏹ stopped"), 30_000);
    expect(hasRegenerate(stopped)).toBe(true);
    expect(stopped.content).not.toContain(STILL_WRITING);
    // The partial text is shown, not the whole echo.
    expect(stopped.content).not.toContain("word349");

    // Stopping aborts the request; the gateway stores the partial reply as the relay notices (at
    // the next token, or after CLIENT_STALL_TIMEOUT_MS when the abort broke the socket mid-write),
    // a moment after the bot has already shown "stopped".
    const partial = await waitFor(async () => {
      const last = (await conversationOf(threadId)).messages.at(-1);
      return last?.role === "assistant" ? last : undefined;
    });
    expect(partial?.role).toBe("assistant");
    expect(partial?.status).toBe("cancelled");

    const repliesBefore = botReplies(threadId).length;
    discord.simulateInteraction({ kind: "button", customId: buttonIds(stopped).find((id) => id.startsWith(BUTTON_IDS.regeneratePrefix)) ?? "", messageId: stopped.id, channelId: threadId, userId: dave.id });
    await discord.waitForMessage((m) => m.id === stopped.id && m.content.includes("regenerated below") && m.components.length === 0);
    const regenerated = await finishedReply(threadId, repliesBefore);
    expect(regenerated.map((m) => m.content).join("")).toContain("word349");

    const afterRegen = await conversationOf(threadId);
    expect(afterRegen.messages.map((m) => [m.role, m.status])).toEqual([
      ["user", null],
      ["assistant", "complete"],
    ]);
  });

  it("answers a message sent right after Stop, once the gateway has stored the stopped reply", async () => {
    const ivy = discord.addUser({ username: "ivy" });
    const threadId = await askLongThenStop(ivy, "item");
    // No waiting for the gateway: the follow-up races the storing of the stopped reply.
    discord.simulateUserMessage({ channelId: threadId, content: "Never mind, just say hi", authorId: ivy.id });
    await discord.waitForMessage((m) => m.channelId === threadId && isBot(m) && m.content.includes("⏹ stopped"), 30_000);
    const stoppedCount = botReplies(threadId).length;
    // echo-prompt: the answer is the whole prompt, long enough to continue over several messages.
    const followUp = (await finishedReply(threadId, stoppedCount)).map((m) => m.content).join("");
    expect(followUp).toContain("USER: Never mind, just say hi ASSISTANT:");
    expect(followUp).not.toMatch(/still answering/);
    const conv = await conversationOf(threadId);
    expect(conv.messages.map((m) => [m.role, m.status])).toEqual([
      ["user", null],
      ["assistant", "cancelled"],
      ["user", null],
      ["assistant", "complete"],
    ]);
  });

  it("/reset forgets the thread's conversation; the next message starts fresh", async () => {
    const erin = discord.addUser({ username: "erin" });
    const ask = discord.simulateUserMessage({ channelId: discord.generalChannelId, content: "Remember the word pineapple", authorId: erin.id, mentionsBot: true });
    const threadId = await threadFor(ask);
    await finishedReply(threadId);

    const reset = discord.simulateInteraction({ kind: "command", name: "reset", channelId: threadId, userId: erin.id });
    const ack = await discord.waitForMessage((m) => m.interactionId === reset.id && m.content !== "");
    expect(discord.state.isEphemeral(ack)).toBe(true);
    expect(ack.content).toMatch(/forgotten this conversation/);

    discord.simulateUserMessage({ channelId: threadId, content: "What word did I say?", authorId: erin.id });
    const [fresh] = await finishedReply(threadId, 1);
    expect(fresh?.content).toContain("USER: What word did I say? ASSISTANT:");
    expect(fresh?.content).not.toContain("pineapple");
  });

  it("keeps one private conversation per user in DMs", async () => {
    const frank = discord.addUser({ username: "frank" });
    const dm = discord.dmChannelFor(frank.id);
    discord.simulateUserMessage({ channelId: dm.id, content: "My favourite fruit is mango", authorId: frank.id });
    await finishedReply(dm.id);
    discord.simulateUserMessage({ channelId: dm.id, content: "What is my favourite fruit?", authorId: frank.id });
    const [second] = await finishedReply(dm.id, 1);
    expect(second?.content).toContain("USER: My favourite fruit is mango ASSISTANT:");
    expect(second?.content).toContain("USER: What is my favourite fruit? ASSISTANT:");
    const conv = await conversationOf(dm.id, frank.id);
    expect(conv.user).toBe(frank.id);
  });

  it("/chat starts a thread from the quoted prompt and answers there", async () => {
    const gina = discord.addUser({ username: "gina" });
    const chat = discord.simulateInteraction({ kind: "command", name: "chat", options: { prompt: "Name three Andean animals" }, channelId: discord.generalChannelId, userId: gina.id });
    const quoted = await discord.waitForMessage((m) => m.interactionId === chat.id && m.threadId !== null);
    expect(quoted.content).toContain("> Name three Andean animals");
    const [reply] = await finishedReply(quoted.threadId ?? "");
    expect(reply?.content).toContain("USER: Name three Andean animals ASSISTANT:");
  });

  it("/model lists the gateway's models and records a choice on the thread's conversation", async () => {
    const lee = discord.addUser({ username: "lee" });
    const first = discord.simulateUserMessage({ channelId: discord.generalChannelId, content: "Hello model", authorId: lee.id, mentionsBot: true });
    const threadId = await threadFor(first);
    await finishedReply(threadId);
    const command = async (name: string, options?: Record<string, string>) => {
      const i = discord.simulateInteraction({ kind: "command", name, options, channelId: threadId, userId: lee.id });
      const answer = await discord.waitForMessage((m) => m.interactionId === i.id && m.content !== "");
      expect(discord.state.isEphemeral(answer)).toBe(true);
      return answer.content;
    };
    expect(await command("model")).toContain("`vicuna-13b-v1.5` (this conversation)");
    expect(await command("model", { name: "gpt-imaginary" })).toMatch(/don't know the model `gpt-imaginary`/);
    expect(await command("model", { name: "vicuna-13b-v1.5" })).toMatch(/already uses/);
    await command("reset");
    expect(await command("model", { name: "vicuna-13b-v1.5" })).toMatch(/Switched to `vicuna-13b-v1.5`/);
    const conv = await conversationOf(threadId);
    expect(conv.model).toBe("vicuna-13b-v1.5");
    expect(conv.messages).toEqual([]);
  });

  it("/usage answers privately, with numbers or a clear 'not available'", async () => {
    const hal = discord.addUser({ username: "hal" });
    const usage = discord.simulateInteraction({ kind: "command", name: "usage", channelId: discord.generalChannelId, userId: hal.id });
    const answer = await discord.waitForMessage((m) => m.interactionId === usage.id && m.content !== "");
    expect(discord.state.isEphemeral(answer)).toBe(true);
    expect(answer.content).toMatch(/Your usage:|not available|No usage recorded/);
  });

  it("tells a rate-limited user when to try again (Retry-After)", async () => {
    const jay = discord.addUser({ username: "jay" });
    let limited: FakeMessage | null = null;
    // Each question in its own thread keeps prompts small; the limit is per end user, across threads.
    for (let i = 0; i < END_USER_REQUESTS_PER_MINUTE + 3 && !limited; i++) {
      const ask = discord.simulateUserMessage({ channelId: discord.generalChannelId, content: `question number ${i}`, authorId: jay.id, mentionsBot: true });
      const threadId = await threadFor(ask);
      const reply = await finishedReply(threadId);
      limited = reply.find((m) => m.content.includes("too quickly")) ?? null;
    }
    expect(limited?.content).toMatch(/^You're sending messages too quickly\. Please try again in \d+ (s|min)\.$/);
  });

  it("on shutdown marks a reply still being written, and after a restart keeps the thread's context", async () => {
    const kim = discord.addUser({ username: "kim" });
    const ask = discord.simulateUserMessage({ channelId: discord.generalChannelId, content: "The secret is quinoa", authorId: kim.id, mentionsBot: true });
    const threadId = await threadFor(ask);
    await finishedReply(threadId);

    // A long answer elsewhere is still streaming when the bot is told to stop (grace: 3 s, answer: ~5 s).
    const longPrompt = `Please repeat: ${Array.from({ length: 350 }, (_, i) => `item${i}`).join(" ")}`;
    const longAsk = discord.simulateUserMessage({ channelId: discord.generalChannelId, content: longPrompt, authorId: kim.id, mentionsBot: true });
    const longThread = await threadFor(longAsk);
    await discord.waitForMessage((m) => m.channelId === longThread && isBot(m) && hasStop(m), 30_000);

    collectFirstEdit();
    await bot.stop();
    const marked = botReplies(longThread).at(-1);
    expect(marked?.content).toContain("interrupted because the bot restarted");
    expect(marked && hasStop(marked)).toBe(false);
    bot = await startBot(config, { logger });

    discord.simulateUserMessage({ channelId: threadId, content: "What is the secret?", authorId: kim.id });
    const [after] = await finishedReply(threadId, 1);
    expect(after?.content).toContain("USER: The secret is quinoa ASSISTANT:");
    expect(after?.content).toContain("USER: What is the secret? ASSISTANT:");
    // The restart read the commands again but wrote nothing.
    expect(discord.rest.commandWrites).toHaveLength(1);
    expect(discord.rest.requestLog.filter((r) => r.method === "GET" && r.path.endsWith(`/guilds/${discord.guildId}/commands`)).length).toBeGreaterThanOrEqual(2);
  });

  it("records 👍/👎 reactions on its reply as each member's own feedback on that answer", async () => {
    const mia = discord.addUser({ username: "mia" });
    const noah = discord.addUser({ username: "noah" });
    const ask = discord.simulateUserMessage({ channelId: discord.generalChannelId, content: "Rate this answer", authorId: mia.id, mentionsBot: true });
    const threadId = await threadFor(ask);
    const [reply] = await finishedReply(threadId);
    if (!reply) throw new Error("no reply");
    const answer = await lastAnswerIn(threadId);
    expect(await ratingBy(answer, mia.id)).toBeNull();

    react(reply.id, mia.id, "👍");
    await ratingBecomes(answer, mia.id, "up");
    unreact(reply.id, mia.id, "👍");
    await ratingBecomes(answer, mia.id, null);
    react(reply.id, mia.id, "👎");
    await ratingBecomes(answer, mia.id, "down");
    // 👍 while the 👎 still shows: the latest wins; taking it back leaves the 👎 that still shows.
    react(reply.id, mia.id, "👍");
    await ratingBecomes(answer, mia.id, "up");
    unreact(reply.id, mia.id, "👍");
    await ratingBecomes(answer, mia.id, "down");

    // Another member's reactions are theirs alone.
    react(reply.id, noah.id, "👍");
    await ratingBecomes(answer, noah.id, "up");
    unreact(reply.id, noah.id, "👍");
    await ratingBecomes(answer, noah.id, null);
    expect(await ratingBy(answer, mia.id)).toBe("down");

    // Other emoji are not feedback; nothing was said in the thread about any reaction.
    react(reply.id, noah.id, "🎉");
    react(reply.id, noah.id, "👎");
    await ratingBecomes(answer, noah.id, "down");
    expect(botReplies(threadId).map((m) => m.id)).toEqual([reply.id]);
  });

  it("ignores its own reactions, counts a thumb on any part of a split reply, and rates in DMs", async () => {
    const olga = discord.addUser({ username: "olga" });
    const longPrompt = `Please repeat: ${Array.from({ length: 350 }, (_, i) => `part${i}`).join(" ")}`;
    const ask = discord.simulateUserMessage({ channelId: discord.generalChannelId, content: longPrompt, authorId: olga.id, mentionsBot: true });
    const threadId = await threadFor(ask);
    const parts = await finishedReply(threadId);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    const answer = await lastAnswerIn(threadId);

    // The bot reacts to its own first part (through its discord.js client, as Discord would
    // report it), then Olga on the same part: only Olga's counts.
    const thread = bot.client.channels.cache.get(threadId);
    if (!thread?.isTextBased()) throw new Error("thread not cached");
    await (await thread.messages.fetch(parts[0]?.id ?? "")).react("👍");
    react(parts[0]?.id ?? "", olga.id, "👎");
    await ratingBecomes(answer, olga.id, "down");
    // The last part is the same answer.
    react(parts.at(-1)?.id ?? "", olga.id, "👍");
    await ratingBecomes(answer, olga.id, "up");
    // Checked after Olga's two calls, which the bot began after its own reaction arrived.
    expect(await ratingBy(answer, discord.botUserId)).toBeNull();
    expect(logLines.filter((l) => l.includes("feedback recorded") && l.includes(discord.botUserId))).toEqual([]);

    const pat = discord.addUser({ username: "pat" });
    const dm = discord.dmChannelFor(pat.id);
    discord.simulateUserMessage({ channelId: dm.id, content: "A private question", authorId: pat.id });
    const [dmReply] = await finishedReply(dm.id);
    const dmAnswer = await lastAnswerIn(dm.id, pat.id);
    react(dmReply?.id ?? "", pat.id, "👍");
    await ratingBecomes(dmAnswer, pat.id, "up");
  });

  it("after a restart, ignores reactions on replies written before it and records those on new ones", async () => {
    const quinn = discord.addUser({ username: "quinn" });
    const ask = discord.simulateUserMessage({ channelId: discord.generalChannelId, content: "Before the restart", authorId: quinn.id, mentionsBot: true });
    const threadId = await threadFor(ask);
    const [before] = await finishedReply(threadId);
    const oldAnswer = await lastAnswerIn(threadId);

    collectFirstEdit();
    await bot.stop();
    bot = await startBot(config, { logger });

    // The restarted bot does not know which answer the old message shows.
    react(before?.id ?? "", quinn.id, "👍");
    discord.simulateUserMessage({ channelId: threadId, content: "After the restart", authorId: quinn.id });
    const [after] = await finishedReply(threadId, 1);
    const newAnswer = await lastAnswerIn(threadId);
    react(after?.id ?? "", quinn.id, "👎");
    await ratingBecomes(newAnswer, quinn.id, "down");
    expect(await ratingBy(oldAnswer, quinn.id)).toBeNull();
  });

  it("tells the user in words when the backend fails (last: the pool may keep the worker out for a while)", async () => {
    const ivy = discord.addUser({ username: "ivy" });
    for (const sim of stack.sims) await sim.setFailure({ mode: "http-500" });
    try {
      const ask = discord.simulateUserMessage({ channelId: discord.generalChannelId, content: "Are you there?", authorId: ivy.id, mentionsBot: true });
      const threadId = await threadFor(ask);
      const failure = await discord.waitForMessage((m) => m.channelId === threadId && isBot(m), 60_000);
      expect(failure.content).toMatch(/backend failed|No GPU is available|GPUs are busy/);
      expect(failure.content).not.toMatch(/Error:|\n\s+at |stack/);
    } finally {
      for (const sim of stack.sims) await sim.setFailure(null);
    }
  });
});
