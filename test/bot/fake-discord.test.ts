/**
 * The fake Discord against a plain, unmocked discord.js Client: login over REST + WebSocket,
 * guild and channel cache, messages, threads, slash-command replies and button updates.
 */
import { ActionRowBuilder, ButtonBuilder, ButtonStyle, Client, Events, GatewayIntentBits, MessageFlags, Partials, type Message } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeDiscord, type FakeDiscord } from "../fake-discord/index.js";

let fake: FakeDiscord;
let client: Client<true>;

beforeAll(async () => {
  fake = await startFakeDiscord();
  const c = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent, GatewayIntentBits.DirectMessages],
    partials: [Partials.Channel],
    rest: { api: fake.restApiUrl },
  });
  const ready = new Promise<Client<true>>((r) => c.once(Events.ClientReady, r));
  await c.login(fake.token);
  client = await ready;
});

afterAll(async () => {
  await client?.destroy();
  await fake?.stop();
});

describe("fake discord with a real discord.js client", () => {
  it("logs in, sees the guild and its channel, and knows its own user", () => {
    expect(client.user.id).toBe(fake.botUserId);
    const guild = client.guilds.cache.get(fake.guildId);
    expect(guild?.channels.cache.get(fake.generalChannelId)?.name).toBe("general");
    expect(client.application.id).toBe(fake.applicationId);
  });

  it("delivers a user message with the mention, and the client can answer in a thread", async () => {
    const alice = fake.addUser({ username: "alice" });
    const received = new Promise<Message>((r) => client.once(Events.MessageCreate, r));
    const sent = fake.simulateUserMessage({ channelId: fake.generalChannelId, content: "hello", authorId: alice.id, mentionsBot: true });
    const message = await received;
    expect(message.content).toBe(`<@${fake.botUserId}> hello`);
    expect(message.mentions.users.has(fake.botUserId)).toBe(true);
    expect(message.author.id).toBe(alice.id);

    const thread = await message.startThread({ name: "hello" });
    expect(thread.id).toBe(sent.id);
    expect(thread.ownerId).toBe(fake.botUserId);
    const reply = await thread.send("hi there");
    await reply.edit("hi there, alice");
    expect(fake.messagesIn(thread.id).map((m) => m.content)).toEqual(["hi there, alice"]);
    expect(fake.editLog.filter((e) => e.messageId === reply.id).map((e) => e.kind)).toEqual(["create", "edit"]);
    await thread.sendTyping();
    expect(fake.state.typing.some((t) => t.channelId === thread.id)).toBe(true);
  });

  it("delivers DMs to a client with the Channel partial", { timeout: 10_000 }, async () => {
    const bob = fake.addUser({ username: "bob" });
    const dm = fake.dmChannelFor(bob.id);
    const received = new Promise<Message>((r) => client.once(Events.MessageCreate, r));
    fake.simulateUserMessage({ channelId: dm.id, content: "psst", authorId: bob.id });
    const message = await received;
    expect(message.channel.isDMBased()).toBe(true);
    if (!message.channel.isSendable()) throw new Error("DM channel is not sendable");
    await message.channel.send("hello bob");
    expect(fake.messagesIn(dm.id).map((m) => m.content)).toEqual(["psst", "hello bob"]);
  });

  it("registers commands, answers a slash command, and updates a message from a button", async () => {
    await client.application.commands.set([{ name: "ping", description: "ping" }], fake.guildId);
    expect(fake.rest.commands.map((c) => c.name)).toContain("ping");
    const carol = fake.addUser({ username: "carol" });
    client.once(Events.InteractionCreate, (i) => {
      if (i.isChatInputCommand()) void i.reply({ content: `pong ${i.options.getString("x")}`, flags: MessageFlags.Ephemeral });
    });
    const slash = fake.simulateInteraction({ kind: "command", name: "ping", options: { x: "1" }, channelId: fake.generalChannelId, userId: carol.id });
    const pong = await fake.waitForMessage((m) => m.interactionId === slash.id);
    expect(pong.content).toBe("pong 1");
    expect(fake.state.isEphemeral(pong)).toBe(true);

    const channel = client.channels.cache.get(fake.generalChannelId);
    if (!channel?.isSendable()) throw new Error("general is not sendable");
    const withButton = await channel.send({
      content: "click",
      components: [new ActionRowBuilder<ButtonBuilder>().addComponents(new ButtonBuilder().setCustomId("b1").setLabel("B").setStyle(ButtonStyle.Primary))],
    });
    client.once(Events.InteractionCreate, (i) => {
      if (i.isButton()) void i.update({ content: `clicked ${i.customId}`, components: [] });
    });
    fake.simulateInteraction({ kind: "button", customId: "b1", messageId: withButton.id, channelId: fake.generalChannelId, userId: carol.id });
    const updated = await fake.waitForMessage((m) => m.id === withButton.id && m.content === "clicked b1");
    expect(updated.components).toEqual([]);
  });

  it("rejects a wrong token like Discord does", async () => {
    const res = await fetch(`${fake.restApiUrl}/v10/users/@me`, { headers: { authorization: "Bot wrong" } });
    expect(res.status).toBe(401);
  });
});

describe("fake discord: deferred interaction replies", () => {
  it("edits the deferred original and keeps it ephemeral", async () => {
    const dan = fake.addUser({ username: "dan" });
    await client.application.commands.set([{ name: "slow", description: "slow" }], fake.guildId);
    client.once(Events.InteractionCreate, (i) => {
      if (!i.isChatInputCommand()) return;
      void i.deferReply({ flags: MessageFlags.Ephemeral }).then(() => i.editReply("finally"));
    });
    const slash = fake.simulateInteraction({ kind: "command", name: "slow", channelId: fake.generalChannelId, userId: dan.id });
    const reply = await fake.waitForMessage((m) => m.interactionId === slash.id && m.content === "finally");
    expect(fake.state.isEphemeral(reply)).toBe(true);
    expect(slash.callbacks).toEqual([5]);
  });
});
