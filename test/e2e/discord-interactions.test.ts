/**
 * Discord without a bot process, end to end: the loopback fake Discord signs each command with
 * the application's key and POSTs it to the gateway's /discord/interactions (started by
 * scripts/stack.ts with DISCORD_API_BASE pointing at the fake); the gateway defers at once, and its
 * Durable Object streams the answer into the original message and follow-ups through the fake's
 * webhook API. Members act as end users of a bot-role key (the stack's public-demo key here).
 */
import { MessageFlags } from "discord-api-types/v10";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCommands } from "../../discord/commands.js";
import { CONSENT_NOTHING_YET_WORDS, consentChangedWords, consentRefusedWords, consentStateWords } from "../../discord/consent.js";
import { errorToWords } from "../../discord/errors-to-words.js";
import { GatewayCallError } from "../../discord/gateway-error.js";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startBot } from "../../bot/bot.js";
import { parseBotEnv } from "../../bot/config.js";
import type { Logger } from "../../bot/logger.js";
import { applyMigrations, startStack, type Stack } from "../../scripts/stack.js";
import { executeLocalSql } from "../../scripts/wrangler-cli.js";
import { deliverInteraction, newApplicationKey, type Delivered } from "../fake-discord/http-interactions.js";
import { startFakeDiscord, type FakeDiscord, type FakeInteraction, type FakeMessage, type SimulatedInteraction } from "../fake-discord/index.js";

const M13 = "vicuna-13b-v1.5";
const M7 = "vicuna-7b-v1.5";
const SLOW = "vicuna-slow";
const arenaEntry = (id: string) => ({ id, template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 1500, arena: { weight: 1, identityWords: ["vicuna"] } });
// Out of the arena, served by one slow worker: 110 tokens 300 ms apart, a generation of over 30 s.
const SLOW_TOKENS = 110;
const SLOW_ITL_MS = 300;
const MODELS = JSON.stringify([arenaEntry(M13), arenaEntry(M7), { id: SLOW, template: "vicuna_v1.1", contextLength: 2048, defaultMaxTokens: SLOW_TOKENS }]);
const EDIT_INTERVAL_MS = 1000;
const STILL_WRITING = "still writing";

const key = newApplicationKey();
/** The bot-role key both modes use: its id for the Worker, its plaintext for the bot process. */
const BOT_KEY_ID = "key_discord_e2e";
const botKeyPlaintext = `sk-alt-${randomBytes(24).toString("base64url")}`;
let stateDir: string;
let fake: FakeDiscord;
let stack: Stack;
let endpointUrl: string;

beforeAll(async () => {
  fake = await startFakeDiscord();
  // The key must exist under a known id before the gateway starts (the id is a var).
  stateDir = await mkdtemp(path.join(tmpdir(), "altiplano-discord-e2e-"));
  await applyMigrations(stateDir, false);
  const hash = createHash("sha256").update(botKeyPlaintext).digest("hex");
  await executeLocalSql(
    stateDir,
    `INSERT INTO api_keys (id, name, role, key_hash, key_prefix, limits, created_at, revoked_at)
     VALUES ('${BOT_KEY_ID}', 'discord', 'bot', '${hash}', '${botKeyPlaintext.slice(0, 11)}', NULL, ${Date.now()}, NULL)`,
  );
  stack = await startStack({
    stateDir,
    sims: 1,
    models: [M13, M7],
    sim: { reply: "echo-prompt", fast: true },
    vars: {
      MODELS,
      DISCORD_PUBLIC_KEY: key.publicKeyHex,
      DISCORD_APPLICATION_ID: fake.applicationId,
      DISCORD_KEY_ID: BOT_KEY_ID,
      DISCORD_API_BASE: `${fake.restApiUrl}/v10`,
      DISCORD_EDIT_INTERVAL_MS: String(EDIT_INTERVAL_MS),
    },
  });
  await stack.addWorker("sim-slow", { model: SLOW, fast: false, reply: "lorem", replyLength: "max", ttftBaseMs: 50, itlMs: SLOW_ITL_MS, itlJitterMs: 0 });
  await stack.waitForReady(["sim-slow"]);
  endpointUrl = `${stack.url}/discord/interactions`;
  // The commands as `npm run discord:commands` registers them (the fake only delivers registered ones).
  const res = await fetch(`${fake.restApiUrl}/v10/applications/${fake.applicationId}/commands`, {
    method: "PUT",
    headers: { authorization: `Bot ${fake.token}`, "content-type": "application/json" },
    body: JSON.stringify(buildCommands([M13, M7, SLOW])),
  });
  expect(res.status).toBe(200);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await fake?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

const send = (interaction: SimulatedInteraction): Promise<Delivered> => deliverInteraction({ fake, key, endpointUrl, interaction });
const command = (name: string, channelId: string, userId: string, options: Record<string, string> = {}) => send({ kind: "command", name, options, channelId, userId });

/** The reply's messages (the original, then follow-ups), oldest first. */
function replyMessages(i: FakeInteraction): FakeMessage[] {
  return [...fake.state.messages.values()].filter((m) => m.interactionId === i.id && !m.deleted);
}

const isDone = (m: FakeMessage | undefined): boolean => m !== undefined && (m.flags & MessageFlags.Loading) === 0 && m.content !== "" && !m.content.includes(STILL_WRITING);

/** Waits until the reply's last message shows a final state; returns the messages. */
async function finished(i: FakeInteraction, timeoutMs = 20_000): Promise<FakeMessage[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = replyMessages(i);
    if (messages.length > 0 && isDone(messages[messages.length - 1]) && isDone(messages[0])) return messages;
    if (Date.now() > deadline) throw new Error(`reply to interaction ${i.id} not finished: ${JSON.stringify(messages.map((m) => m.content.slice(-80)))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The edits of one message, in order, with their times (performance.now() in the fake). */
const editsOf = (messageId: string) => fake.editLog.filter((e) => e.kind === "edit" && e.messageId === messageId);

function expectThrottled(messageId: string): void {
  const edits = editsOf(messageId);
  // Every edit but the final one waits out the interval; the final one goes as soon as the reply ends.
  for (let k = 1; k < edits.length - 1; k++) expect(edits[k]!.atMs - edits[k - 1]!.atMs).toBeGreaterThanOrEqual(EDIT_INTERVAL_MS - 50);
}

describe("Discord HTTP interactions through the gateway", () => {
  it("defers /chat at once, streams the answer into the original message, and a thread made from it continues the conversation", async () => {
    const user = fake.addUser({ username: "ana" });
    const first = await command("chat", fake.generalChannelId, user.id, { prompt: "Name three birds of the altiplano." });
    expect(first.status).toBe(200);
    expect(first.response).toEqual({ type: 5 });
    const [answer] = await finished(first.interaction);
    expect(answer!.content).toContain("Name three birds of the altiplano.");
    expect(editsOf(answer!.id).length).toBeGreaterThanOrEqual(1);
    expectThrottled(answer!.id);

    // On Discord a thread started from a message has the message's id: the /chat conversation's key.
    const thread = fake.state.startThread({ parentId: fake.generalChannelId, messageId: answer!.id, name: "birds", ownerId: user.id });
    const second = await command("chat", thread.id, user.id, { prompt: "And which one is the largest?" });
    const [followUp] = await finished(second.interaction);
    // The simulator echoes the whole prompt: the first question is in the thread's history.
    expect(followUp!.content).toContain("Name three birds of the altiplano.");
    expect(followUp!.content).toContain("And which one is the largest?");
  });

  it("keeps a DM's conversation, /reset forgets it (only the member sees the answer), and a second /reset finds nothing", async () => {
    const user = fake.addUser({ username: "bruno" });
    const dm = fake.dmChannelFor(user.id);
    await finished((await command("chat", dm.id, user.id, { prompt: "My llama is called Pepa." })).interaction);
    const [second] = await finished((await command("chat", dm.id, user.id, { prompt: "What is my llama called?" })).interaction);
    expect(second!.content).toContain("My llama is called Pepa.");

    const reset = await command("reset", dm.id, user.id);
    expect(reset.response).toEqual({ type: 5, data: { flags: 64 } });
    const [done] = await finished(reset.interaction);
    expect(fake.state.isEphemeral(done!)).toBe(true);
    expect(done!.content).toBe("Done: I've forgotten this conversation. Your next message starts a fresh one.");
    const [again] = await finished((await command("reset", dm.id, user.id)).interaction);
    expect(again!.content).toBe("There was nothing to forget here yet.");
    const [fresh] = await finished((await command("chat", dm.id, user.id, { prompt: "Do you remember?" })).interaction);
    expect(fresh!.content).not.toContain("Pepa");
  });

  it("continues an answer past 2,000 characters in follow-up messages, split as the bot splits", async () => {
    const user = fake.addUser({ username: "carla" });
    // About 3,300 characters of one-token words: echoed whole within the model's 1,500 tokens.
    const words = Array.from({ length: 600 }, (_, k) => ["llama", "alpaca", "condor", "puma"][k % 4]).join(" ");
    const d = await command("chat", fake.dmChannelFor(user.id).id, user.id, { prompt: words });
    const messages = await finished(d.interaction);
    expect(messages.length).toBeGreaterThanOrEqual(2);
    for (const m of messages) expect(m.content.length).toBeLessThanOrEqual(2000);
    expect(messages.slice(1).every((m) => m.interactionId === d.interaction.id)).toBe(true);
    // Split at spaces, nothing lost or repeated: the parts joined are the answer, which echoes the prompt.
    expect(messages.map((m) => m.content).join("")).toContain(words);
    expect(messages[messages.length - 1]!.content).not.toContain("cut off");
  });

  it("/model lists the models marking the conversation's, and switching starts a fresh conversation", async () => {
    const user = fake.addUser({ username: "dario" });
    const dm = fake.dmChannelFor(user.id);
    await finished((await command("chat", dm.id, user.id, { prompt: "hello" })).interaction);
    const list = await command("model", dm.id, user.id);
    expect(list.response).toEqual({ type: 5, data: { flags: 64 } });
    const [shown] = await finished(list.interaction);
    expect(shown!.content).toContain(`• \`${M13}\` (this conversation)`);
    expect(shown!.content).toContain(`• \`${M7}\``);
    const [switched] = await finished((await command("model", dm.id, user.id, { name: M7 })).interaction);
    expect(switched!.content).toBe(`Switched to \`${M7}\`. This starts a fresh conversation here.`);
    const [same] = await finished((await command("model", dm.id, user.id, { name: M7 })).interaction);
    expect(same!.content).toBe(`This conversation already uses \`${M7}\`.`);
  });

  it("/usage shows the member's own usage, only to them", async () => {
    const user = fake.addUser({ username: "elena" });
    const dm = fake.dmChannelFor(user.id);
    await finished((await command("chat", dm.id, user.id, { prompt: "count me" })).interaction);
    const [usage] = await finished((await command("usage", dm.id, user.id)).interaction);
    expect(fake.state.isEphemeral(usage!)).toBe(true);
    expect(usage!.content).toMatch(/^Your usage:\n/);
    expect(usage!.content).toMatch(/^\*\*Totals requests:\*\* 1$/m);
  });

  it("/arena posts both answers and the vote; only the asker's vote counts, and it reveals the models", async () => {
    const asker = fake.addUser({ username: "flor" });
    const other = fake.addUser({ username: "gus" });
    const d = await command("arena", fake.generalChannelId, asker.id, { question: "Which bird flies highest?" });
    expect(d.response).toEqual({ type: 5 });
    const messages = await finished(d.interaction);
    expect(messages[0]!.content).toMatch(new RegExp(`^<@${asker.id}> asked the arena:\\n> Which bird flies highest\\?`));
    expect(messages.map((m) => m.content).join("\n")).toMatch(/\*\*Model B\*\*/);
    const voteMessage = messages[messages.length - 1]!;
    const buttons = voteMessage.components.flatMap((r) => r.components);
    expect(buttons.map((b) => b.label)).toEqual(["A is better", "B is better", "Tie", "Both are bad"]);

    const refused = await send({ kind: "button", customId: buttons[0]!.custom_id!, messageId: voteMessage.id, channelId: fake.generalChannelId, userId: other.id });
    expect(refused.response).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(refused.response)).toContain(`Only <@${asker.id}> can vote on this battle`);

    const voted = await send({ kind: "button", customId: buttons[0]!.custom_id!, messageId: voteMessage.id, channelId: fake.generalChannelId, userId: asker.id });
    expect(voted.response).toMatchObject({ type: 7 });
    const revealed = fake.state.messages.get(voteMessage.id)!;
    expect(revealed.content).toMatch(/^Model A was `vicuna-(13|7)b-v1\.5`, Model B was `vicuna-(13|7)b-v1\.5` — you voted “A is better”\.$/);
    expect(revealed.components).toEqual([]);
  });

  it("/share-data shows and sets a DM's consent for its member; in a thread only Manage Server may change it", async () => {
    const user = fake.addUser({ username: "kiri", permissions: "0" });
    const dm = fake.dmChannelFor(user.id);
    const [nothing] = await finished((await command("share-data", dm.id, user.id)).interaction);
    expect(nothing!.content).toBe(CONSENT_NOTHING_YET_WORDS);
    await finished((await command("chat", dm.id, user.id, { prompt: "hello" })).interaction);
    const [on] = await finished((await command("share-data", dm.id, user.id, { consent: "on" })).interaction);
    expect(fake.state.isEphemeral(on!)).toBe(true);
    expect(on!.content).toBe(consentChangedWords({ isDm: true, consent: true, changed: true }));
    const [shown] = await finished((await command("share-data", dm.id, user.id)).interaction);
    expect(shown!.content).toBe(consentStateWords({ isDm: true, consent: true, ownerId: null }));

    const thread = fake.state.startThread({ parentId: fake.generalChannelId, messageId: null, name: "consent", ownerId: user.id });
    await finished((await command("chat", thread.id, user.id, { prompt: "hello thread" })).interaction);
    const [refused] = await finished((await command("share-data", thread.id, user.id, { consent: "on" })).interaction);
    expect(refused!.content).toBe(consentRefusedWords(null));
    const moderator = fake.addUser({ username: "mod", permissions: String(1 << 5) });
    const [allowed] = await finished((await command("share-data", thread.id, moderator.id, { consent: "on" })).interaction);
    expect(allowed!.content).toBe(consentChangedWords({ isDm: false, consent: true, changed: true }));
  });

  it("edits a failed turn into the bot's words for the failure", async () => {
    const user = fake.addUser({ username: "hugo" });
    const [failed] = await finished((await command("chat", fake.dmChannelFor(user.id).id, user.id, { prompt: "hi", model: "no-such-model" })).interaction);
    expect(failed!.content).toBe(errorToWords(new GatewayCallError({ message: "", status: 404, code: "model_not_found" })));
  });

  it("honours a 429 on an edit: waits retry_after, then the edit and the rest of the answer land", async () => {
    const user = fake.addUser({ username: "ines" });
    const retryAfterSeconds = 2;
    fake.rest.rateLimitNext({ method: "PATCH", path: /^\/webhooks\/\d+\/[^/]+\/messages\/@original$/, retryAfterSeconds });
    const before = fake.rest.requestLog.length;
    const d = await command("chat", fake.dmChannelFor(user.id).id, user.id, { prompt: "Tell me about vicuñas." });
    const [answer] = await finished(d.interaction);
    expect(answer!.content).toContain("Tell me about vicuñas.");
    const edits = editsOf(answer!.id);
    // The first edit was refused: the first that landed came no sooner than retry_after after the deferred answer.
    expect(edits[0]!.atMs - (d.sentAtMs + d.ackMs)).toBeGreaterThanOrEqual(retryAfterSeconds * 1000 - 50);
    const patches = fake.rest.requestLog.slice(before).filter((r) => r.method === "PATCH" && /\/messages\/(@|%40)original$/.test(r.path));
    expect(patches.length).toBe(edits.length + 1);
  });

  it("finishes a generation longer than 30 s, editing about once a second all along", async () => {
    const user = fake.addUser({ username: "jara" });
    const d = await command("chat", fake.dmChannelFor(user.id).id, user.id, { prompt: "Write a long poem.", model: SLOW });
    expect(d.response).toEqual({ type: 5 });
    const [answer] = await finished(d.interaction, 90_000);
    const edits = editsOf(answer!.id);
    const last = edits[edits.length - 1]!;
    expect(last.atMs - d.sentAtMs).toBeGreaterThan(30_000);
    expect(last.content).not.toContain(STILL_WRITING);
    // Over 30 s of text at one edit a second at most: many edits, none closer than the interval.
    expect(edits.length).toBeGreaterThanOrEqual(20);
    expectThrottled(answer!.id);
  }, 120_000);

  it("keeps a thread's context when the community switches to the bot process", async () => {
    const user = fake.addUser({ username: "luz" });
    const d = await command("chat", fake.generalChannelId, user.id, { prompt: "Remember the word quinoa." });
    const [answer] = await finished(d.interaction);
    const thread = fake.state.startThread({ parentId: fake.generalChannelId, messageId: answer!.id, name: "switch", ownerId: user.id });
    const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const bot = await startBot(
      parseBotEnv({
        DISCORD_TOKEN: fake.token,
        DISCORD_APPLICATION_ID: fake.applicationId,
        DISCORD_REST_API: fake.restApiUrl,
        ALTIPLANO_URL: stack.url,
        ALTIPLANO_API_KEY: botKeyPlaintext,
        EDIT_INTERVAL_MS: String(EDIT_INTERVAL_MS),
      }),
      { logger: quiet },
    );
    try {
      await fake.waitForLogin();
      fake.simulateUserMessage({ channelId: thread.id, content: "Which word did I ask you to remember?", authorId: user.id, mentionsBot: true });
      // The bot process answers in the thread with the conversation the Worker started (the simulator echoes the prompt).
      const reply = await fake.waitForMessage(
        (m) => m.channelId === thread.id && m.authorId === fake.botUserId && m.interactionId === null && m.content.includes("Which word did I ask you to remember?") && !m.content.includes(STILL_WRITING),
        30_000,
      );
      expect(reply.content).toContain("Remember the word quinoa.");
    } finally {
      await bot.stop();
    }
  });
});
