/**
 * The fake Discord against a plain, unmocked discord.js Client: login over REST + WebSocket,
 * guild and channel cache, messages, threads, slash-command replies, button updates and reactions.
 */
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  Partials,
  type Message,
  type MessageReaction,
  type PartialMessageReaction,
  type PartialUser,
  type User,
} from "discord.js";
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

  it("after deferUpdate on a button, editReply edits the message the button is on and followUp can be ephemeral", async () => {
    const eve = fake.addUser({ username: "eve" });
    const channel = client.channels.cache.get(fake.generalChannelId);
    if (!channel?.isSendable()) throw new Error("general is not sendable");
    const withButton = await channel.send({
      content: "vote",
      components: [new ActionRowBuilder<ButtonBuilder>().addComponents(new ButtonBuilder().setCustomId("later").setLabel("Later").setStyle(ButtonStyle.Primary))],
    });
    client.once(Events.InteractionCreate, (i) => {
      if (!i.isButton()) return;
      void i
        .deferUpdate()
        .then(() => i.editReply({ content: "voted", components: [] }))
        .then(() => i.followUp({ content: "noted", flags: MessageFlags.Ephemeral }));
    });
    const click = fake.simulateInteraction({ kind: "button", customId: "later", messageId: withButton.id, channelId: fake.generalChannelId, userId: eve.id });
    const note = await fake.waitForMessage((m) => m.interactionId === click.id && m.content === "noted");
    expect(fake.state.isEphemeral(note)).toBe(true);
    const edited = fake.state.messages.get(withButton.id);
    expect(edited?.content).toBe("voted");
    expect(edited?.components).toEqual([]);
    expect(click.callbacks).toEqual([6]);
  });
});

describe("fake discord: reactions", () => {
  type Seen = { kind: "add" | "remove"; emoji: string | null; userId: string; messageId: string; partial: boolean };
  let reacting: Client<true>;
  const seen: Seen[] = [];
  const record = (kind: Seen["kind"]) => (r: MessageReaction | PartialMessageReaction, u: User | PartialUser) =>
    void seen.push({ kind, emoji: r.emoji.name, userId: u.id, messageId: r.message.id, partial: r.message.partial });

  beforeAll(async () => {
    // A second session on the same bot, asking for reaction events (the first one does not).
    const c = new Client({
      intents: [
        GatewayIntentBits.Guilds,
        GatewayIntentBits.GuildMessages,
        GatewayIntentBits.DirectMessages,
        GatewayIntentBits.GuildMessageReactions,
        GatewayIntentBits.DirectMessageReactions,
      ],
      partials: [Partials.Channel, Partials.Message, Partials.Reaction, Partials.User],
      rest: { api: fake.restApiUrl },
    });
    const ready = new Promise<Client<true>>((r) => c.once(Events.ClientReady, r));
    await c.login(fake.token);
    reacting = await ready;
    reacting.on(Events.MessageReactionAdd, record("add"));
    reacting.on(Events.MessageReactionRemove, record("remove"));
  });

  afterAll(async () => {
    await reacting?.destroy();
  });

  const waitSeen = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const tick = () => (seen.length >= n ? resolve() : Date.now() - started > 5000 ? reject(new Error(`saw ${seen.length} reactions, wanted ${n}`)) : setTimeout(tick, 10));
      tick();
    });

  it("dispatches a user's reaction add and remove on a guild message, once per real change", async () => {
    seen.length = 0;
    const erin = fake.addUser({ username: "erin" });
    const channel = reacting.channels.cache.get(fake.generalChannelId);
    if (!channel?.isSendable()) throw new Error("general is not sendable");
    const sent = await channel.send("rate me");
    expect(fake.simulateReaction({ messageId: sent.id, userId: erin.id, emoji: "👍" })).toBe(true);
    // Already there: Discord sends nothing.
    expect(fake.simulateReaction({ messageId: sent.id, userId: erin.id, emoji: "👍" })).toBe(false);
    expect(fake.simulateReaction({ messageId: sent.id, userId: erin.id, emoji: "👍", remove: true })).toBe(true);
    await waitSeen(2);
    expect(seen).toEqual([
      { kind: "add", emoji: "👍", userId: erin.id, messageId: sent.id, partial: false },
      { kind: "remove", emoji: "👍", userId: erin.id, messageId: sent.id, partial: false },
    ]);
    expect(fake.state.messages.get(sent.id)?.reactions).toEqual([]);
  });

  it("dispatches reactions on messages the client never cached (partial), and in DMs", async () => {
    seen.length = 0;
    const finn = fake.addUser({ username: "finn" });
    // Written before this client started (never dispatched to it): it arrives as a partial message.
    const old = fake.state.createMessage({ channelId: fake.generalChannelId, authorId: fake.botUserId, content: "an old reply" });
    fake.simulateReaction({ messageId: old.id, userId: finn.id, emoji: "👎" });
    await waitSeen(1);
    // In a DM: discord.js drops reactions in DM channels it has not cached (a reaction carries no
    // channel type), so the DM channel becomes known first, through a message, as in the bot.
    const dm = fake.dmChannelFor(finn.id);
    const received = new Promise<Message>((r) => reacting.once(Events.MessageCreate, r));
    const psst = fake.simulateUserMessage({ channelId: dm.id, content: "psst", authorId: finn.id });
    await received;
    fake.simulateReaction({ messageId: psst.id, userId: finn.id, emoji: "👍🏽" });
    await waitSeen(2);
    expect(seen).toEqual([
      { kind: "add", emoji: "👎", userId: finn.id, messageId: old.id, partial: true },
      { kind: "add", emoji: "👍🏽", userId: finn.id, messageId: psst.id, partial: false },
    ]);
  });

  it("sends the bot's own reactions (over REST) like anyone's, and nothing to a session without the reactions intent", async () => {
    seen.length = 0;
    const withoutIntent: string[] = [];
    const onClient = (r: MessageReaction | PartialMessageReaction) => void withoutIntent.push(r.emoji.name ?? "");
    client.on(Events.MessageReactionAdd, onClient);
    try {
      const channel = reacting.channels.cache.get(fake.generalChannelId);
      if (!channel?.isSendable()) throw new Error("general is not sendable");
      const sent = await channel.send("self-rated");
      await sent.react("👍");
      await waitSeen(1);
      expect(seen).toEqual([{ kind: "add", emoji: "👍", userId: fake.botUserId, messageId: sent.id, partial: false }]);
      expect(fake.state.messages.get(sent.id)?.reactions).toEqual([{ emoji: "👍", userId: fake.botUserId }]);
      // The first client identified without GuildMessageReactions: a message sent after the
      // reaction reaches it, the reaction never did (one socket keeps the order).
      const gina = fake.addUser({ username: "gina" });
      const received = new Promise<Message>((r) => client.once(Events.MessageCreate, r));
      fake.simulateUserMessage({ channelId: fake.generalChannelId, content: "after the reaction", authorId: gina.id });
      await received;
      expect(withoutIntent).toEqual([]);
    } finally {
      client.off(Events.MessageReactionAdd, onClient);
    }
  });
});
