/**
 * The fake Discord gateway: a WebSocket speaking JSON without compression. HELLO on connect,
 * IDENTIFY → READY then GUILD_CREATE (channels, active threads, members, roles), heartbeats
 * acknowledged, RESUME refused (the client identifies again), dispatches to every identified session
 * (reactions only to sessions that identified with the matching reactions intent).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { GatewayDispatchEvents, GatewayOpcodes, ChannelType } from "discord-api-types/v10";
import { WebSocketServer, type WebSocket } from "ws";
import { z } from "zod";
import type { FakeDiscordState } from "./state.js";

const PayloadSchema = z.object({ op: z.number(), d: z.unknown().optional() });
const IdentifySchema = z.looseObject({ intents: z.number().int().nonnegative() });

interface Session {
  socket: WebSocket;
  sequence: number;
  identified: boolean;
  /** The intents bitfield sent in IDENTIFY. */
  intents: number;
}

/** Gateway WebSocket sessions attached to the fake's HTTP server. */
export class FakeGateway {
  readonly #state: FakeDiscordState;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sessions = new Set<Session>();
  readonly #heartbeatIntervalMs: number;
  /** Number of IDENTIFYs received (one per bot login). */
  identifyCount = 0;

  constructor(state: FakeDiscordState, options: { heartbeatIntervalMs: number }) {
    this.#state = state;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs;
    this.#wss.on("connection", (socket) => this.#onConnection(socket));
  }

  /** Hands an HTTP upgrade request to the WebSocket server. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#wss.emit("connection", ws, req));
  }

  /**
   * Sends a dispatch event to every identified session; with `intent`, only to sessions that
   * identified with that intent (Discord sends e.g. reactions only to clients that asked for them).
   */
  dispatch(event: GatewayDispatchEvents, data: unknown, options: { intent?: number } = {}): void {
    const { intent } = options;
    for (const s of this.#sessions) {
      if (!s.identified || (intent !== undefined && (s.intents & intent) === 0)) continue;
      this.#send(s, { op: GatewayOpcodes.Dispatch, t: event, d: data });
    }
  }

  /** Whether any bot session is identified (i.e. a bot is logged in). */
  get hasIdentifiedSession(): boolean {
    return [...this.#sessions].some((s) => s.identified);
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    for (const s of this.#sessions) s.socket.terminate();
    await new Promise<void>((r) => this.#wss.close(() => r()));
  }

  #onConnection(socket: WebSocket): void {
    const session: Session = { socket, sequence: 0, identified: false, intents: 0 };
    this.#sessions.add(session);
    socket.on("close", () => this.#sessions.delete(session));
    socket.on("message", (raw) => this.#onMessage(session, raw.toString()));
    socket.send(JSON.stringify({ op: GatewayOpcodes.Hello, d: { heartbeat_interval: this.#heartbeatIntervalMs }, s: null, t: null }));
  }

  #onMessage(session: Session, raw: string): void {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      session.socket.close(4002, "Decode error");
      return;
    }
    const payload = PayloadSchema.safeParse(json);
    if (!payload.success) {
      session.socket.close(4002, "Decode error");
      return;
    }
    switch (payload.data.op) {
      case GatewayOpcodes.Heartbeat:
        session.socket.send(JSON.stringify({ op: GatewayOpcodes.HeartbeatAck, d: null, s: null, t: null }));
        return;
      case GatewayOpcodes.Identify: {
        const identify = IdentifySchema.safeParse(payload.data.d);
        if (!identify.success) {
          session.socket.close(4013, "Invalid intent(s)");
          return;
        }
        this.identifyCount++;
        session.identified = true;
        session.intents = identify.data.intents;
        this.#sendReady(session);
        return;
      }
      case GatewayOpcodes.Resume:
        // Sessions are not kept across connections: ask the client to identify afresh.
        session.socket.send(JSON.stringify({ op: GatewayOpcodes.InvalidSession, d: false, s: null, t: null }));
        return;
      default:
        // Presence and voice updates are accepted and ignored.
        return;
    }
  }

  #send(session: Session, payload: { op: number; t: string; d: unknown }): void {
    session.sequence++;
    session.socket.send(JSON.stringify({ ...payload, s: session.sequence }));
  }

  #sendReady(session: Session): void {
    const st = this.#state;
    const guildId = st.guild.id;
    this.#send(session, {
      op: GatewayOpcodes.Dispatch,
      t: GatewayDispatchEvents.Ready,
      d: {
        v: 10,
        user: st.apiUser(st.botUser),
        guilds: [{ id: guildId, unavailable: true }],
        session_id: `session-${st.ids.next()}`,
        resume_gateway_url: "ws://127.0.0.1:1",
        shard: [0, 1],
        application: { id: st.applicationId, flags: 0 },
      },
    });
    const channels = [...st.channels.values()].filter((c) => c.guildId === guildId);
    const members = [...st.users.values()].map((u) => st.apiMember(u));
    this.#send(session, {
      op: GatewayOpcodes.Dispatch,
      t: GatewayDispatchEvents.GuildCreate,
      d: {
        id: guildId,
        name: st.guild.name,
        icon: null,
        splash: null,
        discovery_splash: null,
        owner_id: st.botUser.id,
        afk_channel_id: null,
        afk_timeout: 300,
        verification_level: 0,
        default_message_notifications: 0,
        explicit_content_filter: 0,
        roles: st.apiRoles(),
        emojis: [],
        stickers: [],
        features: [],
        mfa_level: 0,
        application_id: null,
        system_channel_id: null,
        system_channel_flags: 0,
        rules_channel_id: null,
        vanity_url_code: null,
        description: null,
        banner: null,
        premium_tier: 0,
        preferred_locale: "en-US",
        public_updates_channel_id: null,
        nsfw_level: 0,
        premium_progress_bar_enabled: false,
        safety_alerts_channel_id: null,
        joined_at: new Date(0).toISOString(),
        large: false,
        unavailable: false,
        member_count: members.length,
        voice_states: [],
        members,
        channels: channels.filter((c) => c.type === ChannelType.GuildText).map((c) => st.apiChannel(c)),
        threads: channels.filter((c) => c.type === ChannelType.PublicThread).map((c) => st.apiChannel(c)),
        presences: [],
        stage_instances: [],
        guild_scheduled_events: [],
        soundboard_sounds: [],
      },
    });
  }
}
