/**
 * The fake Discord's world: users, one guild with channels and roles, threads, DMs, messages and a
 * log of every create/edit. Serialises to discord-api-types payload shapes.
 */
import {
  ChannelType,
  InteractionType,
  MessageType,
  type APIChannel,
  type APITextChannel,
  type APIThreadChannel,
  type ChannelFlags,
  type GuildMemberFlags,
  type RoleFlags,
  type APIGuildMember,
  type APIMessage,
  type APIRole,
  type APIUser,
} from "discord-api-types/v10";

const DISCORD_EPOCH_MS = 1_420_070_400_000n;
const EPHEMERAL_FLAG = 1 << 6;

/** A message as the fake stores it. */
export interface FakeMessage {
  id: string;
  channelId: string;
  authorId: string;
  content: string;
  components: FakeRow[];
  flags: number;
  createdAtMs: number;
  editedAtMs: number | null;
  /** Id of the thread started from this message, if any. */
  threadId: string | null;
  /** For interaction responses: the interaction it answers. */
  interactionId: string | null;
  deleted: boolean;
  /** Reactions present on the message, oldest first (one per user and emoji, as on Discord). */
  reactions: FakeReaction[];
}

/** One user's reaction with one (unicode) emoji. */
export interface FakeReaction {
  emoji: string;
  userId: string;
}

/** A row of message components (buttons) as the bot sent it. */
export interface FakeRow {
  type: 1;
  components: Array<{ type: number; custom_id?: string; label?: string; style?: number }>;
}

/** One entry of the create/edit log. */
export interface MessageLogEntry {
  kind: "create" | "edit" | "delete";
  messageId: string;
  channelId: string;
  content: string;
  atMs: number;
}

/** A channel as the fake stores it. */
export interface FakeChannel {
  id: string;
  type: ChannelType.GuildText | ChannelType.PublicThread | ChannelType.DM;
  name: string;
  guildId: string | null;
  parentId: string | null;
  ownerId: string | null;
  /** DM only: the user on the other side. */
  recipientId: string | null;
}

/** A user as the fake stores it. */
export interface FakeUser {
  id: string;
  username: string;
  bot: boolean;
  roleIds: string[];
  /** The member's permission bitfield in interactions (decimal string); Administrator ("8") unless given. */
  permissions: string;
}

/** Generates increasing snowflakes with the current time in them. */
export class SnowflakeSource {
  #counter = 0n;
  next(): string {
    const ms = BigInt(Date.now()) - DISCORD_EPOCH_MS;
    this.#counter = (this.#counter + 1n) & 0xfffn;
    return ((ms << 22n) | this.#counter).toString();
  }
}

/** Everything the fake Discord knows. */
export class FakeDiscordState {
  readonly ids = new SnowflakeSource();
  readonly botUser: FakeUser;
  readonly applicationId: string;
  readonly guild: { id: string; name: string; roles: Array<{ id: string; name: string }> };
  readonly users = new Map<string, FakeUser>();
  readonly channels = new Map<string, FakeChannel>();
  readonly messages = new Map<string, FakeMessage>();
  /** Interaction id → the user who triggered it (messages answering it carry `interaction_metadata`). */
  readonly interactionUsers = new Map<string, string>();
  readonly log: MessageLogEntry[] = [];
  readonly typing: Array<{ channelId: string; atMs: number }> = [];
  #listeners = new Set<() => void>();

  constructor() {
    this.applicationId = this.ids.next();
    this.botUser = { id: this.applicationId, username: "altiplano", bot: true, roleIds: [], permissions: "8" };
    this.users.set(this.botUser.id, this.botUser);
    const guildId = this.ids.next();
    this.guild = { id: guildId, name: "Fake Guild", roles: [{ id: guildId, name: "@everyone" }] };
  }

  /** Calls `fn` after every change (create, edit, delete). */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  changed(): void {
    for (const fn of this.#listeners) fn();
  }

  addRole(name: string): string {
    const id = this.ids.next();
    this.guild.roles.push({ id, name });
    return id;
  }

  addUser(args: { username: string; roleIds?: string[]; permissions?: string }): FakeUser {
    const user: FakeUser = { id: this.ids.next(), username: args.username, bot: false, roleIds: args.roleIds ?? [], permissions: args.permissions ?? "8" };
    this.users.set(user.id, user);
    return user;
  }

  addTextChannel(name: string): FakeChannel {
    const ch: FakeChannel = { id: this.ids.next(), type: ChannelType.GuildText, name, guildId: this.guild.id, parentId: null, ownerId: null, recipientId: null };
    this.channels.set(ch.id, ch);
    return ch;
  }

  /** The DM channel between the bot and `userId` (created on first use). */
  dmChannelFor(userId: string): FakeChannel {
    for (const ch of this.channels.values()) if (ch.type === ChannelType.DM && ch.recipientId === userId) return ch;
    const ch: FakeChannel = { id: this.ids.next(), type: ChannelType.DM, name: "", guildId: null, parentId: null, ownerId: null, recipientId: userId };
    this.channels.set(ch.id, ch);
    return ch;
  }

  /** Starts a thread from a message; like Discord, the thread's id is the message's id. */
  startThread(args: { parentId: string; messageId: string | null; name: string; ownerId: string }): FakeChannel {
    const id = args.messageId ?? this.ids.next();
    const thread: FakeChannel = { id, type: ChannelType.PublicThread, name: args.name, guildId: this.guild.id, parentId: args.parentId, ownerId: args.ownerId, recipientId: null };
    this.channels.set(id, thread);
    if (args.messageId) {
      const m = this.messages.get(args.messageId);
      if (m) m.threadId = id;
    }
    this.changed();
    return thread;
  }

  createMessage(args: {
    channelId: string;
    authorId: string;
    content: string;
    components?: FakeMessage["components"];
    flags?: number;
    interactionId?: string;
  }): FakeMessage {
    const m: FakeMessage = {
      id: this.ids.next(),
      channelId: args.channelId,
      authorId: args.authorId,
      content: args.content,
      components: args.components ?? [],
      flags: args.flags ?? 0,
      createdAtMs: Date.now(),
      editedAtMs: null,
      threadId: null,
      interactionId: args.interactionId ?? null,
      deleted: false,
      reactions: [],
    };
    this.messages.set(m.id, m);
    this.log.push({ kind: "create", messageId: m.id, channelId: m.channelId, content: m.content, atMs: performance.now() });
    this.changed();
    return m;
  }

  editMessage(m: FakeMessage, patch: { content?: string; components?: FakeMessage["components"] }): FakeMessage {
    if (patch.content !== undefined) m.content = patch.content;
    if (patch.components !== undefined) m.components = patch.components;
    m.editedAtMs = Date.now();
    this.log.push({ kind: "edit", messageId: m.id, channelId: m.channelId, content: m.content, atMs: performance.now() });
    this.changed();
    return m;
  }

  deleteMessage(m: FakeMessage): void {
    m.deleted = true;
    this.log.push({ kind: "delete", messageId: m.id, channelId: m.channelId, content: m.content, atMs: performance.now() });
    this.changed();
  }

  /** Adds `userId`'s reaction; false (nothing changes) if it is already there, as on Discord. */
  addReaction(m: FakeMessage, r: FakeReaction): boolean {
    if (m.reactions.some((x) => x.emoji === r.emoji && x.userId === r.userId)) return false;
    m.reactions.push({ ...r });
    this.changed();
    return true;
  }

  /** Removes `userId`'s reaction; false if there was none. */
  removeReaction(m: FakeMessage, r: FakeReaction): boolean {
    const i = m.reactions.findIndex((x) => x.emoji === r.emoji && x.userId === r.userId);
    if (i < 0) return false;
    m.reactions.splice(i, 1);
    this.changed();
    return true;
  }

  isEphemeral(m: FakeMessage): boolean {
    return (m.flags & EPHEMERAL_FLAG) !== 0;
  }

  // ---- serialisation to Discord payloads ----

  apiUser(u: FakeUser): APIUser {
    return { id: u.id, username: u.username, discriminator: "0", global_name: u.username, avatar: null, bot: u.bot };
  }

  apiMember(u: FakeUser): APIGuildMember {
    return {
      user: this.apiUser(u),
      roles: u.roleIds,
      joined_at: new Date(0).toISOString(),
      deaf: false,
      mute: false,
      flags: 0 as GuildMemberFlags,
      nick: null,
      avatar: null,
      banner: null,
      premium_since: null,
      pending: false,
    };
  }

  apiRoles(): APIRole[] {
    return this.guild.roles.map((r, i) => ({
      id: r.id,
      name: r.name,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      icon: null,
      unicode_emoji: null,
      position: i,
      // Everyone may do everything: the fake does not model permissions.
      permissions: "8",
      managed: false,
      mentionable: false,
      flags: 0 as RoleFlags,
    }));
  }

  apiChannel(ch: FakeChannel): APIChannel {
    if (ch.type === ChannelType.DM) {
      const recipient = ch.recipientId ? this.users.get(ch.recipientId) : undefined;
      return { id: ch.id, type: ChannelType.DM, recipients: recipient ? [this.apiUser(recipient)] : [], last_message_id: null, flags: 0 as ChannelFlags, name: null };
    }
    if (ch.type === ChannelType.PublicThread) {
      const thread: APIThreadChannel = {
        id: ch.id,
        type: ChannelType.PublicThread,
        guild_id: ch.guildId ?? undefined,
        parent_id: ch.parentId ?? undefined,
        owner_id: ch.ownerId ?? undefined,
        name: ch.name,
        member_count: 1,
        message_count: 0,
        total_message_sent: 0,
        rate_limit_per_user: 0,
        flags: 0 as ChannelFlags,
        thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date().toISOString(), locked: false },
      };
      return thread;
    }
    const text: APITextChannel = {
      id: ch.id,
      type: ChannelType.GuildText,
      guild_id: ch.guildId ?? undefined,
      name: ch.name,
      position: 0,
      permission_overwrites: [],
      parent_id: null,
      nsfw: false,
      topic: null,
      last_message_id: null,
      rate_limit_per_user: 0,
      flags: 0 as ChannelFlags,
    };
    return text;
  }

  /** A message as MESSAGE_CREATE/UPDATE carries it: with the channel's type, as Discord sends it. */
  gatewayMessage(m: FakeMessage, author?: FakeUser): APIMessage & { guild_id?: string; channel_type?: ChannelType; member?: Omit<APIGuildMember, "user"> } {
    const channel = this.channels.get(m.channelId);
    const payload = { ...this.apiMessage(m), ...(channel ? { channel_type: channel.type } : {}) };
    if (!author || !channel?.guildId) return payload;
    const { user: _user, ...member } = this.apiMember(author);
    return { ...payload, member };
  }

  /**
   * MESSAGE_REACTION_ADD / _REMOVE as Discord sends them: ids, the emoji (`id: null` for unicode),
   * and in guilds the guild id; an add in a guild also carries the reacting member and the
   * message's author.
   */
  gatewayReaction(m: FakeMessage, r: FakeReaction, kind: "add" | "remove"): Record<string, unknown> {
    const channel = this.channels.get(m.channelId);
    const user = this.users.get(r.userId);
    const guildId = channel?.guildId ?? null;
    return {
      user_id: r.userId,
      channel_id: m.channelId,
      message_id: m.id,
      ...(guildId ? { guild_id: guildId } : {}),
      emoji: { id: null, name: r.emoji },
      burst: false,
      type: 0,
      ...(kind === "add" ? { burst_colors: [] } : {}),
      ...(kind === "add" && guildId && user ? { member: this.apiMember(user), message_author_id: m.authorId } : {}),
    };
  }

  apiMessage(m: FakeMessage): APIMessage & { guild_id?: string } {
    const author = this.users.get(m.authorId) ?? this.botUser;
    const channel = this.channels.get(m.channelId);
    const thread = m.threadId ? this.channels.get(m.threadId) : undefined;
    const botMentioned = m.content.includes(`<@${this.botUser.id}>`);
    const interactionUserId = m.interactionId ? this.interactionUsers.get(m.interactionId) : undefined;
    const interactionUser = interactionUserId ? this.users.get(interactionUserId) : undefined;
    return {
      id: m.id,
      channel_id: m.channelId,
      ...(channel?.guildId ? { guild_id: channel.guildId } : {}),
      author: this.apiUser(author),
      content: m.content,
      timestamp: new Date(m.createdAtMs).toISOString(),
      edited_timestamp: m.editedAtMs === null ? null : new Date(m.editedAtMs).toISOString(),
      tts: false,
      mention_everyone: false,
      mentions: botMentioned ? [this.apiUser(this.botUser)] : [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      pinned: false,
      type: MessageType.Default,
      flags: m.flags,
      // The rows are stored as the bot sent them (validated on the way in).
      components: m.components as APIMessage["components"],
      ...(m.interactionId && author.bot ? { webhook_id: this.applicationId, application_id: this.applicationId } : {}),
      ...(m.interactionId && author.bot && interactionUser ? { interaction_metadata: { id: m.interactionId, type: InteractionType.ApplicationCommand, user: this.apiUser(interactionUser), authorizing_integration_owners: {} } } : {}),
      ...(thread ? { thread: this.apiChannel(thread) as APIMessage["thread"] } : {}),
    };
  }
}
