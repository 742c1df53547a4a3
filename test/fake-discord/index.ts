/**
 * A loopback fake Discord (REST under /api/v10 + gateway WebSocket) that a real discord.js Client
 * logs into via `rest: { api: fake.restApiUrl }`. Tests drive it as users would: send messages,
 * run slash commands, click buttons, react with emoji; and read what the bot showed.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApplicationCommandOptionType, ChannelType, ComponentType, GatewayDispatchEvents, InteractionType } from "discord-api-types/v10";
import { FakeGateway } from "./gateway-ws.js";
import { changeReaction } from "./reactions.js";
import { FakeRest, type FakeCommand, type FakeInteraction } from "./rest.js";
import { FakeDiscordState, type FakeChannel, type FakeMessage, type FakeReaction, type FakeUser, type MessageLogEntry } from "./state.js";

export type { FakeChannel, FakeCommand, FakeInteraction, FakeMessage, FakeReaction, FakeUser, MessageLogEntry };

/** A slash command or a button click, as a user would trigger it. */
export type SimulatedInteraction =
  | { kind: "command"; name: string; options?: Record<string, string>; channelId: string; userId: string }
  | { kind: "button"; customId: string; messageId: string; channelId: string; userId: string };

/** The running fake and its controls. */
export interface FakeDiscord {
  /** REST base to pass to discord.js as `rest: { api }` (…/api; discord.js appends /v10). */
  restApiUrl: string;
  /** The token the fake accepts. */
  token: string;
  applicationId: string;
  botUserId: string;
  guildId: string;
  /** A text channel the bot may talk in. */
  generalChannelId: string;
  state: FakeDiscordState;
  rest: FakeRest;
  gateway: FakeGateway;
  /** `permissions`: the member's bitfield in interactions (decimal string), Administrator ("8") by default. */
  addUser(args: { username: string; roleIds?: string[]; permissions?: string }): FakeUser;
  addRole(name: string): string;
  addTextChannel(name: string): FakeChannel;
  dmChannelFor(userId: string): FakeChannel;
  /** A user posts a message (with a leading bot mention if `mentionsBot`). */
  simulateUserMessage(args: { channelId: string; content: string; authorId: string; mentionsBot?: boolean }): FakeMessage;
  /** A user runs a slash command or clicks a button (delivered over the gateway WebSocket). */
  simulateInteraction(args: SimulatedInteraction): FakeInteraction;
  /**
   * The interaction a user's command or click makes, registered (its token works on the webhook
   * routes) but not dispatched: for delivering it over HTTP instead (test/fake-discord/http-interactions.ts).
   */
  buildInteraction(args: SimulatedInteraction): { interaction: FakeInteraction; payload: unknown };
  /**
   * A user adds or removes a unicode emoji reaction on a message. Dispatched (MESSAGE_REACTION_ADD /
   * _REMOVE) only if it changes something, as on Discord; returns whether it did.
   */
  simulateReaction(args: { messageId: string; userId: string; emoji: string; remove?: boolean }): boolean;
  /** Resolves with the first message (current state) that satisfies `predicate`. */
  waitForMessage(predicate: (m: FakeMessage) => boolean, timeoutMs?: number): Promise<FakeMessage>;
  /** Non-deleted messages in a channel, oldest first. */
  messagesIn(channelId: string): FakeMessage[];
  /** Threads started from a message in `parentId`. */
  threadsIn(parentId: string): FakeChannel[];
  /** Every create/edit/delete, in order. */
  editLog: MessageLogEntry[];
  /** Resolves once a bot session has identified (logged in). */
  waitForLogin(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_WAIT_MS = 15_000;

/** Starts a fake Discord on 127.0.0.1 with one guild, a #general channel and a bot user. */
export async function startFakeDiscord(options: { token?: string; heartbeatIntervalMs?: number } = {}): Promise<FakeDiscord> {
  const token = options.token ?? "fake-bot-token";
  const state = new FakeDiscordState();
  const general = state.addTextChannel("general");
  const gateway = new FakeGateway(state, { heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250 });
  const rest = new FakeRest({ state, gateway, token });
  const server: Server = createServer((req, res) => void rest.handle(req, res));
  server.on("upgrade", (req, socket, head) => gateway.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  rest.setWebSocketUrl(`ws://127.0.0.1:${port}`);

  const waitFor = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const first = check();
      if (first !== undefined) return resolve(first);
      const timer = setTimeout(() => {
        off();
        reject(new Error(`fake discord: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const off = state.onChange(() => {
        const found = check();
        if (found === undefined) return;
        clearTimeout(timer);
        off();
        resolve(found);
      });
    });

  const fake: FakeDiscord = {
    restApiUrl: `http://127.0.0.1:${port}/api`,
    token,
    applicationId: state.applicationId,
    botUserId: state.botUser.id,
    guildId: state.guild.id,
    generalChannelId: general.id,
    state,
    rest,
    gateway,
    editLog: state.log,
    addUser: (a) => state.addUser(a),
    addRole: (n) => state.addRole(n),
    addTextChannel: (n) => state.addTextChannel(n),
    dmChannelFor: (u) => state.dmChannelFor(u),

    simulateUserMessage({ channelId, content, authorId, mentionsBot }) {
      const channel = state.channels.get(channelId);
      const author = state.users.get(authorId);
      if (!channel || !author) throw new Error(`fake discord: unknown channel ${channelId} or user ${authorId}`);
      const text = mentionsBot ? `<@${state.botUser.id}> ${content}` : content;
      const m = state.createMessage({ channelId, authorId, content: text });
      gateway.dispatch(GatewayDispatchEvents.MessageCreate, state.gatewayMessage(m, author));
      return m;
    },

    simulateInteraction(args) {
      const { interaction, payload } = fake.buildInteraction(args);
      gateway.dispatch(GatewayDispatchEvents.InteractionCreate, payload);
      return interaction;
    },

    buildInteraction(args) {
      const channel = state.channels.get(args.channelId);
      const user = state.users.get(args.userId);
      if (!channel || !user) throw new Error(`fake discord: unknown channel ${args.channelId} or user ${args.userId}`);
      const interaction: FakeInteraction = {
        id: state.ids.next(),
        token: `itoken-${state.ids.next()}`,
        channelId: channel.id,
        userId: user.id,
        messageId: args.kind === "button" ? args.messageId : null,
        callbacks: [],
        originalMessageId: null,
      };
      rest.interactions.set(interaction.id, interaction);
      state.interactionUsers.set(interaction.id, user.id);
      const where = channel.guildId
        ? { guild_id: channel.guildId, member: { ...state.apiMember(user), permissions: user.permissions }, context: 0 }
        : { user: state.apiUser(user), context: 1 };
      const common = {
        id: interaction.id,
        application_id: state.applicationId,
        channel_id: channel.id,
        channel: state.apiChannel(channel),
        token: interaction.token,
        version: 1,
        app_permissions: "8",
        locale: "en-US",
        entitlements: [],
        authorizing_integration_owners: {},
        attachment_size_limit: 10_485_760,
        ...where,
      };
      let data: unknown;
      if (args.kind === "command") {
        const command = rest.commands.find((c) => c.name === args.name && (c.scope === "global" || c.scope === channel.guildId));
        if (!command) throw new Error(`fake discord: command /${args.name} is not registered`);
        data = {
          ...common,
          type: InteractionType.ApplicationCommand,
          data: {
            id: command.id,
            name: command.name,
            type: 1,
            options: Object.entries(args.options ?? {}).map(([name, value]) => ({ name, type: ApplicationCommandOptionType.String, value })),
            ...(channel.guildId ? { guild_id: channel.guildId } : {}),
          },
        };
      } else {
        const message = state.messages.get(args.messageId);
        if (!message) throw new Error(`fake discord: unknown message ${args.messageId}`);
        const hasButton = message.components.some((r) => r.components.some((c) => c.custom_id === args.customId));
        if (!hasButton) throw new Error(`fake discord: message ${args.messageId} has no button ${args.customId}`);
        data = {
          ...common,
          type: InteractionType.MessageComponent,
          data: { custom_id: args.customId, component_type: ComponentType.Button },
          message: state.apiMessage(message),
        };
      }
      return { interaction, payload: data };
    },

    simulateReaction({ messageId, userId, emoji, remove }) {
      const message = state.messages.get(messageId);
      if (!message || message.deleted || !state.users.has(userId)) throw new Error(`fake discord: unknown message ${messageId} or user ${userId}`);
      return changeReaction({ state, gateway, message, reaction: { emoji, userId }, kind: remove ? "remove" : "add" });
    },

    waitForMessage(predicate, timeoutMs = DEFAULT_WAIT_MS) {
      return waitFor(() => [...state.messages.values()].find((m) => !m.deleted && predicate(m)), timeoutMs, "a matching message");
    },

    messagesIn(channelId) {
      return [...state.messages.values()].filter((m) => m.channelId === channelId && !m.deleted);
    },

    threadsIn(parentId) {
      return [...state.channels.values()].filter((c) => c.type === ChannelType.PublicThread && c.parentId === parentId);
    },

    async waitForLogin(timeoutMs = DEFAULT_WAIT_MS) {
      const started = Date.now();
      while (!gateway.hasIdentifiedSession) {
        if (Date.now() - started > timeoutMs) throw new Error("fake discord: no bot logged in");
        await new Promise((r) => setTimeout(r, 20));
      }
    },

    async stop() {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return fake;
}
