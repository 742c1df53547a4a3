/**
 * The fake Discord REST API under /api/v10: gateway discovery, the current user, messages,
 * typing, threads, the bot's own reactions, application commands, interaction callbacks and webhook
 * edits. Every change is mirrored to the gateway as Discord would (MESSAGE_CREATE, MESSAGE_UPDATE,
 * THREAD_CREATE, MESSAGE_REACTION_ADD/REMOVE).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ChannelType, GatewayDispatchEvents, InteractionResponseType, MessageFlags } from "discord-api-types/v10";
import { z } from "zod";
import type { FakeGateway } from "./gateway-ws.js";
import { changeReaction } from "./reactions.js";
import type { FakeDiscordState, FakeMessage } from "./state.js";

const ButtonSchema = z.looseObject({
  type: z.number(),
  custom_id: z.string().optional(),
  label: z.string().optional(),
  style: z.number().optional(),
});
const RowSchema = z.looseObject({ type: z.literal(1), components: z.array(ButtonSchema) });
const MessageBodySchema = z.looseObject({
  content: z.string().max(2000, "content longer than 2000 characters").optional(),
  components: z.array(RowSchema).optional(),
  flags: z.number().optional(),
});
const ThreadBodySchema = z.looseObject({ name: z.string().min(1).max(100) });
const CommandSchema = z.looseObject({ name: z.string(), description: z.string().optional(), options: z.array(z.unknown()).optional() });
const CallbackSchema = z.looseObject({ type: z.number(), data: MessageBodySchema.optional() });
const DmBodySchema = z.looseObject({ recipient_id: z.string() });

/** A registered slash command as the fake keeps it. */
export interface FakeCommand {
  id: string;
  name: string;
  scope: "global" | string;
  raw: z.infer<typeof CommandSchema>;
}

/** An interaction the fake sent, and what the bot answered. */
export interface FakeInteraction {
  id: string;
  token: string;
  channelId: string;
  userId: string;
  /** For component interactions: the message the button is on. */
  messageId: string | null;
  /** Callback types received, in order. */
  callbacks: number[];
  /**
   * The message `…/messages/@original` edits: the one created by the first response (type 4 or 5),
   * or for a component interaction acknowledged with type 6 or 7, the message its button is on.
   */
  originalMessageId: string | null;
}

type Json = unknown;
interface Reply {
  status: number;
  body?: Json;
}
type Handler = (args: { params: string[]; body: unknown; url: URL }) => Reply | Promise<Reply>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The REST side of the fake. */
export class FakeRest {
  readonly #state: FakeDiscordState;
  readonly #gateway: FakeGateway;
  readonly #routes: Array<{ method: string; pattern: RegExp; handler: Handler; auth: boolean }> = [];
  readonly commands: FakeCommand[] = [];
  /** Every bulk overwrite of commands (PUT), in order: which scope and how many commands. */
  readonly commandWrites: Array<{ scope: string; count: number }> = [];
  readonly interactions = new Map<string, FakeInteraction>();
  /** Every request's method and path, for assertions on what the bot called. */
  readonly requestLog: Array<{ method: string; path: string }> = [];
  #wsUrl = "";

  constructor(args: { state: FakeDiscordState; gateway: FakeGateway; token: string }) {
    this.#state = args.state;
    this.#gateway = args.gateway;
    this.#token = args.token;
    this.#defineRoutes();
  }

  readonly #token: string;

  setWebSocketUrl(url: string): void {
    this.#wsUrl = url;
  }

  /** Handles one HTTP request. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    this.requestLog.push({ method, path: url.pathname });
    try {
      // discord.js encodes "@original" and "@me" as %40; route on the decoded form.
      const path = url.pathname.replace(/^\/api\/v10/, "").replace(/%40/gi, "@");
      const route = this.#routes.find((r) => r.method === method && r.pattern.test(path));
      if (!url.pathname.startsWith("/api/v10/") || !route) throw new HttpError(404, `no route ${method} ${url.pathname}`);
      if (this.#answerRateLimited(method, path, res)) return;
      if (route.auth && req.headers.authorization !== `Bot ${this.#token}`) throw new HttpError(401, "401: Unauthorized");
      const params = (route.pattern.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
      const raw = await readBody(req);
      let body: unknown = undefined;
      if (raw !== "") {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HttpError(400, "body is not JSON");
        }
      }
      const reply = await route.handler({ params, body, url });
      send(res, reply);
    } catch (error) {
      if (error instanceof HttpError) send(res, { status: error.status, body: { message: error.message, code: 0 } });
      else if (error instanceof z.ZodError) send(res, { status: 400, body: { message: error.message, code: 50035 } });
      else send(res, { status: 500, body: { message: String(error), code: 0 } });
    }
  }

  // ---- One-shot 429s: the next matching request is refused as Discord refuses an exhausted bucket.
  readonly #rateLimits: Array<{ method: string; path: RegExp; retryAfterSeconds: number }> = [];

  /** The next `method` request whose path (after /api/v10) matches `path` gets a 429 with `retryAfterSeconds`. */
  rateLimitNext(args: { method: string; path: RegExp; retryAfterSeconds: number }): void {
    this.#rateLimits.push(args);
  }

  #answerRateLimited(method: string, path: string, res: ServerResponse): boolean {
    const i = this.#rateLimits.findIndex((r) => r.method === method && r.path.test(path));
    const limit = this.#rateLimits[i];
    if (!limit) return false;
    this.#rateLimits.splice(i, 1);
    const seconds = String(limit.retryAfterSeconds);
    const body = JSON.stringify({ message: "You are being rate limited.", retry_after: limit.retryAfterSeconds, global: false });
    res
      .writeHead(429, {
        "content-type": "application/json",
        "retry-after": seconds,
        "x-ratelimit-limit": "5",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset-after": seconds,
        "x-ratelimit-bucket": "fake-bucket",
        "x-ratelimit-scope": "user",
      })
      .end(body);
    return true;
  }
  // ---- end of one-shot 429s.

  #route(method: string, pattern: string, handler: Handler, auth = true): void {
    const re = new RegExp(`^${pattern.replace(/:\w+/g, "([^/]+)")}$`);
    this.#routes.push({ method, pattern: re, handler, auth });
  }

  #channel(id: string | undefined) {
    const ch = id ? this.#state.channels.get(id) : undefined;
    if (!ch) throw new HttpError(404, "Unknown Channel");
    return ch;
  }

  #message(channelId: string | undefined, messageId: string | undefined): FakeMessage {
    const m = messageId ? this.#state.messages.get(messageId) : undefined;
    if (!m || m.deleted || m.channelId !== channelId) throw new HttpError(404, "Unknown Message");
    return m;
  }

  #interaction(token: string | undefined): FakeInteraction {
    const i = [...this.interactions.values()].find((x) => x.token === token);
    if (!i) throw new HttpError(404, "Unknown Webhook");
    return i;
  }

  #created(m: FakeMessage): Reply {
    if (!this.#state.isEphemeral(m)) this.#gateway.dispatch(GatewayDispatchEvents.MessageCreate, this.#state.gatewayMessage(m));
    return { status: 200, body: this.#state.apiMessage(m) };
  }

  #edited(m: FakeMessage): Reply {
    if (!this.#state.isEphemeral(m)) this.#gateway.dispatch(GatewayDispatchEvents.MessageUpdate, this.#state.gatewayMessage(m));
    return { status: 200, body: this.#state.apiMessage(m) };
  }

  #defineRoutes(): void {
    const st = this.#state;
    this.#route("GET", "/gateway/bot", () => ({
      status: 200,
      body: { url: this.#wsUrl, shards: 1, session_start_limit: { total: 1000, remaining: 1000, reset_after: 86_400_000, max_concurrency: 1 } },
    }));
    this.#route("GET", "/gateway", () => ({ status: 200, body: { url: this.#wsUrl } }), false);
    this.#route("GET", "/users/@me", () => ({ status: 200, body: st.apiUser(st.botUser) }));
    this.#route("GET", "/applications/@me", () => ({ status: 200, body: { id: st.applicationId, name: st.botUser.username, flags: 0 } }));

    const putCommands = (scope: string) => (body: unknown): Reply => {
      const defs = z.array(CommandSchema).parse(body);
      this.commandWrites.push({ scope, count: defs.length });
      for (let i = this.commands.length - 1; i >= 0; i--) if (this.commands[i]?.scope === scope) this.commands.splice(i, 1);
      const stored = defs.map((raw) => ({ id: st.ids.next(), name: raw.name, scope, raw }));
      this.commands.push(...stored);
      return {
        status: 200,
        body: stored.map((c) => ({
          ...c.raw,
          id: c.id,
          application_id: st.applicationId,
          type: 1,
          version: st.ids.next(),
          default_member_permissions: null,
          ...(scope === "global" ? {} : { guild_id: scope }),
        })),
      };
    };
    this.#route("PUT", "/applications/:app/commands", ({ body }) => putCommands("global")(body));
    this.#route("PUT", "/applications/:app/guilds/:guild/commands", ({ params, body }) => putCommands(params[1] ?? "")(body));

    // ---- Command registration reads (the bot checks its commands at start; it does not write them).
    const getCommands = (scope: string): Reply => ({
      status: 200,
      body: this.commands
        .filter((c) => c.scope === scope)
        .map((c) => ({ ...c.raw, id: c.id, application_id: st.applicationId, type: 1, version: c.id, default_member_permissions: null, ...(scope === "global" ? {} : { guild_id: scope }) })),
    });
    this.#route("GET", "/applications/:app/commands", () => getCommands("global"));
    this.#route("GET", "/applications/:app/guilds/:guild/commands", ({ params }) => getCommands(params[1] ?? ""));
    // ---- end of command registration reads.

    this.#route("GET", "/channels/:id", ({ params }) => ({ status: 200, body: st.apiChannel(this.#channel(params[0])) }));
    this.#route("POST", "/channels/:id/typing", ({ params }) => {
      const ch = this.#channel(params[0]);
      st.typing.push({ channelId: ch.id, atMs: performance.now() });
      return { status: 204 };
    });
    this.#route("POST", "/channels/:id/messages", ({ params, body }) => {
      const ch = this.#channel(params[0]);
      const b = MessageBodySchema.parse(body);
      if (!b.content && !b.components?.length) throw new HttpError(400, "Cannot send an empty message");
      const m = st.createMessage({ channelId: ch.id, authorId: st.botUser.id, content: b.content ?? "", components: b.components });
      return this.#created(m);
    });
    this.#route("GET", "/channels/:id/messages/:mid", ({ params }) => ({ status: 200, body: st.apiMessage(this.#message(params[0], params[1])) }));
    this.#route("PATCH", "/channels/:id/messages/:mid", ({ params, body }) => {
      const m = this.#message(params[0], params[1]);
      if (m.authorId !== st.botUser.id) throw new HttpError(403, "Cannot edit a message authored by another user");
      const b = MessageBodySchema.parse(body);
      return this.#edited(st.editMessage(m, { content: b.content, components: b.components }));
    });
    this.#route("DELETE", "/channels/:id/messages/:mid", ({ params }) => {
      const m = this.#message(params[0], params[1]);
      st.deleteMessage(m);
      this.#gateway.dispatch(GatewayDispatchEvents.MessageDelete, { id: m.id, channel_id: m.channelId, guild_id: st.guild.id });
      return { status: 204 };
    });
    // The bot's own reactions (message.react / reaction.users.remove): dispatched like anyone's.
    for (const [method, kind] of [
      ["PUT", "add"],
      ["DELETE", "remove"],
    ] as const) {
      this.#route(method, "/channels/:id/messages/:mid/reactions/:emoji/@me", ({ params }) => {
        const m = this.#message(params[0], params[1]);
        const emoji = params[2] ?? "";
        if (emoji.includes(":")) throw new HttpError(400, "the fake supports unicode emoji only");
        changeReaction({ state: st, gateway: this.#gateway, message: m, reaction: { emoji, userId: st.botUser.id }, kind });
        return { status: 204 };
      });
    }
    this.#route("POST", "/channels/:id/messages/:mid/threads", ({ params, body }) => {
      const parent = this.#channel(params[0]);
      const m = this.#message(params[0], params[1]);
      if (parent.type !== ChannelType.GuildText) throw new HttpError(400, "Cannot start a thread here");
      if (m.threadId) throw new HttpError(400, "A thread has already been created for this message");
      const b = ThreadBodySchema.parse(body);
      const thread = st.startThread({ parentId: parent.id, messageId: m.id, name: b.name, ownerId: st.botUser.id });
      const payload = st.apiChannel(thread);
      this.#gateway.dispatch(GatewayDispatchEvents.ThreadCreate, { ...payload, newly_created: true });
      return { status: 201, body: payload };
    });
    this.#route("POST", "/users/@me/channels", ({ body }) => {
      const b = DmBodySchema.parse(body);
      return { status: 200, body: st.apiChannel(st.dmChannelFor(b.recipient_id)) };
    });

    this.#route(
      "POST",
      "/interactions/:id/:token/callback",
      ({ params, body, url }) => {
        const i = this.interactions.get(params[0] ?? "");
        if (!i || i.token !== params[1]) throw new HttpError(404, "Unknown interaction");
        if (i.callbacks.length > 0) throw new HttpError(400, "Interaction has already been acknowledged.");
        const b = CallbackSchema.parse(body);
        i.callbacks.push(b.type);
        let message: FakeMessage | null = null;
        if (b.type === InteractionResponseType.ChannelMessageWithSource || b.type === InteractionResponseType.DeferredChannelMessageWithSource) {
          const deferred = b.type === InteractionResponseType.DeferredChannelMessageWithSource;
          message = st.createMessage({
            channelId: i.channelId,
            authorId: st.botUser.id,
            content: deferred ? "" : (b.data?.content ?? ""),
            components: b.data?.components,
            flags: (b.data?.flags ?? 0) | (deferred ? MessageFlags.Loading : 0),
            interactionId: i.id,
          });
          i.originalMessageId = message.id;
          if (!st.isEphemeral(message)) this.#gateway.dispatch(GatewayDispatchEvents.MessageCreate, st.gatewayMessage(message));
        } else if (b.type === InteractionResponseType.UpdateMessage) {
          message = this.#message(i.channelId, i.messageId ?? undefined);
          // As on Discord: a component interaction's original message is the one its button is on.
          i.originalMessageId = message.id;
          this.#edited(st.editMessage(message, { content: b.data?.content, components: b.data?.components }));
        } else if (b.type === InteractionResponseType.DeferredMessageUpdate) {
          // Edited later through …/messages/@original (discord.js: deferUpdate, then editReply).
          i.originalMessageId = this.#message(i.channelId, i.messageId ?? undefined).id;
        } else {
          throw new HttpError(400, `callback type ${b.type} is not supported by the fake`);
        }
        if (url.searchParams.get("with_response") !== "true") return { status: 204 };
        return {
          status: 200,
          body: {
            interaction: { id: i.id, type: i.messageId ? 3 : 2, response_message_id: message?.id, response_message_loading: false, response_message_ephemeral: message ? st.isEphemeral(message) : false },
            resource: message ? { type: b.type, message: st.apiMessage(message) } : undefined,
          },
        };
      },
      false,
    );
    const original = (token: string | undefined): FakeMessage => {
      const i = this.#interaction(token);
      const m = i.originalMessageId ? st.messages.get(i.originalMessageId) : undefined;
      if (!m) throw new HttpError(404, "Unknown Message");
      return m;
    };
    this.#route("GET", "/webhooks/:app/:token/messages/@original", ({ params }) => ({ status: 200, body: st.apiMessage(original(params[1])) }), false);
    this.#route(
      "PATCH",
      "/webhooks/:app/:token/messages/@original",
      ({ params, body }) => {
        const m = original(params[1]);
        const b = MessageBodySchema.parse(body);
        m.flags &= ~MessageFlags.Loading;
        return this.#edited(st.editMessage(m, { content: b.content, components: b.components }));
      },
      false,
    );
    this.#route(
      "POST",
      "/webhooks/:app/:token",
      ({ params, body }) => {
        const i = this.#interaction(params[1]);
        const b = MessageBodySchema.parse(body);
        const m = st.createMessage({ channelId: i.channelId, authorId: st.botUser.id, content: b.content ?? "", components: b.components, flags: b.flags ?? 0, interactionId: i.id });
        return this.#created(m);
      },
      false,
    );
    this.#route(
      "PATCH",
      "/webhooks/:app/:token/messages/:mid",
      ({ params, body }) => {
        this.#interaction(params[1]);
        const m = st.messages.get(params[2] ?? "");
        if (!m) throw new HttpError(404, "Unknown Message");
        const b = MessageBodySchema.parse(body);
        return this.#edited(st.editMessage(m, { content: b.content, components: b.components }));
      },
      false,
    );
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, reply: Reply): void {
  if (reply.body === undefined) {
    res.writeHead(reply.status).end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
}
