/**
 * /arena end to end: the real gateway stack with two arena models (each served by its own
 * simulated GPU worker in echo-prompt mode), the bot started in-process with a real discord.js
 * client, and the loopback fake Discord playing the members. Names must stay hidden until the
 * asker votes; only the asker may vote; the vote is the gateway's, read back through its API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";
import { decodeVoteId, type ArenaVoteButton } from "../../discord/arena-view.js";
import { runDiscordCommands } from "../../scripts/discord-commands.js";
import { startBot, type RunningBot } from "../../bot/bot.js";
import { parseBotEnv } from "../../bot/config.js";
import { GatewayClient } from "../../bot/gateway-client.js";
import { GatewayCallError } from "../../discord/gateway-error.js";
import type { Logger } from "../../bot/logger.js";
import { startFakeDiscord, type FakeDiscord, type FakeMessage } from "../fake-discord/index.js";

/** The two arena models, each on its own simulated worker. */
const MODELS = ["vicuna-13b-v1.5", "vicuna-7b-v1.5"] as const;
const modelEntry = (id: string) => ({
  id,
  template: "vicuna_v1.1",
  contextLength: 4096,
  defaultMaxTokens: 512,
  arena: { weight: 1, identityWords: ["vicuna"] },
});

/** Per-member generations per minute: one battle (two generations) fits, two do not. */
const END_USER_REQUESTS_PER_MINUTE = 3;

let stack: Stack;
let discord: FakeDiscord;
let bot: RunningBot;
let gateway: GatewayClient;
const logLines: string[] = [];

const logger: Logger = {
  info: (m, d) => logLines.push(`info ${m} ${JSON.stringify(d ?? "")}`),
  warn: (m, d) => logLines.push(`warn ${m} ${d instanceof Error ? d.message : JSON.stringify(d ?? "")}`),
  error: (m, d) => logLines.push(`error ${m} ${d instanceof Error ? d.message : JSON.stringify(d ?? "")}`),
};

beforeAll(async () => {
  stack = await startStack({
    sims: 1,
    models: MODELS,
    sim: { reply: "echo-prompt", fast: true },
    vars: { MODELS: JSON.stringify(MODELS.map(modelEntry)), END_USER_LIMIT_REQUESTS_PER_MINUTE: String(END_USER_REQUESTS_PER_MINUTE) },
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
    ALTIPLANO_MAX_TOKENS: "600",
  };
  // As an operator would: commands are registered by the script, not by the bot.
  expect((await runDiscordCommands([], env)).exitCode).toBe(0);
  const config = parseBotEnv(env);
  gateway = new GatewayClient({ baseUrl: stack.url, apiKey: botKey });
  bot = await startBot(config, { logger });
});

afterAll(async () => {
  await bot?.stop();
  await discord?.stop();
  await stack?.stop();
  const problems = logLines.filter((l) => !l.startsWith("info"));
  if (problems.length > 0) console.log(`bot warnings/errors during the run:\n${problems.join("\n")}`);
});

// ---------------------------------------------------------------- helpers

const isBot = (m: FakeMessage) => m.authorId === discord.botUserId;
const buttonsOf = (m: FakeMessage) => m.components.flatMap((r) => r.components);
const votesOn = (m: FakeMessage): ArenaVoteButton[] => buttonsOf(m).flatMap((b) => decodeVoteId(b.custom_id ?? "") ?? []);

/** Runs `/arena` as `userId` in `channelId`; resolves with the interaction and its public messages once the bot has posted the last. */
async function askArena(userId: string, question: string, channelId = discord.generalChannelId) {
  const command = discord.simulateInteraction({ kind: "command", name: "arena", options: { question }, channelId, userId });
  const posted = () => discord.messagesIn(channelId).filter((m) => m.interactionId === command.id && isBot(m) && !discord.state.isEphemeral(m));
  // Done when the last message asks for the vote or says there is none (or the deferred reply became an error sentence).
  const done = (m: FakeMessage) => votesOn(m).length > 0 || m.content.includes("No vote on this one") || (m.content !== "" && !m.content.includes("**Model"));
  await discord.waitForMessage((m) => m.interactionId === command.id && posted().at(-1)?.id === m.id && m.content !== "" && done(m), 60_000);
  return { command, messages: posted() };
}

/** The ephemeral answer to one interaction. */
const ephemeralFor = (interactionId: string) =>
  discord.waitForMessage((m) => m.interactionId === interactionId && discord.state.isEphemeral(m) && m.content !== "", 20_000);

// ---------------------------------------------------------------- cases

describe("/arena against the real gateway with two arena models", () => {
  it("registers /arena with a required question", () => {
    const arena = discord.rest.commands.find((c) => c.scope === discord.guildId && c.name === "arena");
    expect(arena?.raw.options).toEqual([expect.objectContaining({ name: "question", required: true })]);
  });

  it("posts Model A and Model B without names; only the asker's vote counts, and it reveals the two models", async () => {
    const alice = discord.addUser({ username: "alice" });
    const bob = discord.addUser({ username: "bob" });
    const question = "What do llamas eat? (arena question)";
    const { command, messages } = await askArena(alice.id, question);

    // Deferred first ("thinking…"), then the answers: quote + Model A, Model B, then the vote.
    expect(command.callbacks).toEqual([5]);
    const voteMessage = messages.at(-1);
    if (!voteMessage) throw new Error("no vote message");
    const answers = messages.slice(0, -1);
    expect(answers[0]?.content).toMatch(new RegExp(`^<@${alice.id}> asked the arena:\\n> What do llamas eat\\? \\(arena question\\)\\n\\n\\*\\*Model A\\*\\*\\n`));
    const bStart = answers.findIndex((m) => m.content.startsWith("**Model B**\n"));
    expect(bStart).toBeGreaterThan(0);
    // echo-prompt: each model's answer is the prompt it was given, so both carry the question.
    const textA = answers.slice(0, bStart).map((m) => m.content).join("\n");
    const textB = answers.slice(bStart).map((m) => m.content).join("\n");
    expect(textA).toContain(`USER: ${question} ASSISTANT:`);
    expect(textB).toContain(`USER: ${question} ASSISTANT:`);
    for (const m of messages) {
      expect(m.content.length).toBeLessThanOrEqual(2000);
      for (const model of MODELS) expect(m.content).not.toContain(model);
    }
    expect(answers.every((m) => m.components.length === 0)).toBe(true);
    expect(buttonsOf(voteMessage).map((b) => b.label)).toEqual(["A is better", "B is better", "Tie", "Both are bad"]);
    const votes = votesOn(voteMessage);
    expect(votes.map((v) => v.winner)).toEqual(["a", "b", "tie", "bothbad"]);
    expect(new Set(votes.map((v) => v.askerId))).toEqual(new Set([alice.id]));
    const battleId = votes[0]?.battleId ?? "";
    const customIdA = buttonsOf(voteMessage)[0]?.custom_id ?? "";

    // The battle is Alice's: open and nameless in the gateway, and not Bob's to see.
    const before = await gateway.getBattle(battleId, alice.id);
    expect([before.status, before.a.model, before.b.model, before.vote]).toEqual(["open", null, null, null]);
    const asBob = await gateway.getBattle(battleId, bob.id).catch((e: unknown) => e);
    expect(asBob).toBeInstanceOf(GatewayCallError);
    expect(asBob).toMatchObject({ status: 404 });

    // Bob's click is refused, privately; nothing changes.
    const bobClick = discord.simulateInteraction({ kind: "button", customId: customIdA, messageId: voteMessage.id, channelId: voteMessage.channelId, userId: bob.id });
    expect((await ephemeralFor(bobClick.id)).content).toBe(`Only <@${alice.id}> can vote on this battle: it's their question. Ask your own with \`/arena\`.`);
    expect(votesOn(discord.state.messages.get(voteMessage.id) as FakeMessage)).toHaveLength(4);
    expect((await gateway.getBattle(battleId, alice.id)).vote).toBeNull();

    // Alice double-clicks "A is better": both clicks reach the bot before it has edited the message.
    const clicks = [1, 2].map(() =>
      discord.simulateInteraction({ kind: "button", customId: customIdA, messageId: voteMessage.id, channelId: voteMessage.channelId, userId: alice.id }),
    );
    const reveal = await discord.waitForMessage((m) => m.id === voteMessage.id && m.content.startsWith("Model A was"), 20_000);
    const match = /^Model A was `([^`]+)`, Model B was `([^`]+)` — you voted “A is better”\.$/.exec(reveal.content);
    expect(match).not.toBeNull();
    const [, revealedA, revealedB] = match ?? [];
    expect([revealedA, revealedB].sort()).toEqual([...MODELS].sort());
    expect(reveal.components).toEqual([]);
    // One click voted; the other was told, privately, that the battle already has its vote.
    const second = await discord.waitForMessage((m) => clicks.some((c) => c.id === m.interactionId) && discord.state.isEphemeral(m), 20_000);
    expect(second.content).toBe("You already voted on this battle; each battle takes one vote.");
    expect(clicks.flatMap((c) => c.callbacks)).toEqual([6, 6]);

    // The vote is the gateway's, for the end user Alice, with the models the reveal named.
    const after = await gateway.getBattle(battleId, alice.id);
    expect(after.status).toBe("voted");
    expect(after.vote?.winner).toBe("a");
    expect([after.a.model, after.b.model]).toEqual([revealedA, revealedB]);
    // The message still shows the reveal (the already-voted click rewrote the same words).
    expect(discord.state.messages.get(voteMessage.id)?.content).toBe(reveal.content);
  });

  it("tells a member who is over their limit when to try again (a battle costs two generations)", async () => {
    const evan = discord.addUser({ username: "evan" });
    let limited: FakeMessage | null = null;
    for (let i = 0; i < 3 && !limited; i++) {
      const { messages } = await askArena(evan.id, `Question number ${i}`);
      limited = messages.find((m) => m.content.includes("too quickly")) ?? null;
      if (limited) expect(messages.flatMap(votesOn)).toEqual([]);
    }
    expect(limited?.content).toMatch(/You're sending messages too quickly\. Please try again in \d+ (s|min)\./);
  });

  it("when one model's worker fails, says which side failed and offers no vote (last: the pool may keep the worker out)", async () => {
    const dora = discord.addUser({ username: "dora" });
    const failing = stack.workers.find((w) => w.model === MODELS[1]);
    if (!failing) throw new Error("no worker for the second model");
    await failing.sim.setFailure({ mode: "http-500" });
    try {
      const { messages } = await askArena(dora.id, "Are you both there?");
      const text = messages.map((m) => m.content).join("\n");
      expect(messages.flatMap(votesOn)).toEqual([]);
      expect(text).toMatch(/Model (A|B) failed|Both models failed|arena needs two models|No GPU is available|backend failed|GPUs are busy/);
      expect(text).not.toMatch(/Error:|\n\s+at |stack/);
      // When the battle ran (the pool had not yet taken the worker out), the side named as failed is the broken model's.
      const named = /Model (A|B) failed, so the answers can't be compared\. Model A was `([^`]+)`, Model B was `([^`]+)`/.exec(text);
      if (named) expect(named[1] === "A" ? named[2] : named[3]).toBe(MODELS[1]);
    } finally {
      await failing.sim.setFailure(null);
    }
  });
});
