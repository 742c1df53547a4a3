/**
 * The gateway's own API, called in-process by the interactions' Durable Object as the configured
 * bot key: the same route modules (conversations, arena, usage, models) behind a middleware that
 * sets the caller instead of reading a Bearer key, so a Discord member's turn runs the one turn
 * path — limits, storage, failover — and the same requests the bot process sends over HTTP.
 * No network hop, and no plaintext key needed: only the key's id is configured.
 */
import { Hono, type ExecutionContext } from "hono";
import { z } from "zod";
import type { ArenaBattle, ArenaTurnResult, ArenaWinner, CreateBattleBody } from "../../wire/arena.js";
import { ArenaBattleSchema, ArenaBattleWithMessagesSchema, ArenaTurnResultSchema } from "../../wire/arena.js";
import type { Conversation, CreateConversationBody, TurnBody } from "../../wire/conversations.js";
import { ConversationListSchema, ConversationSchema, TURN_HEADERS } from "../../wire/conversations.js";
import { ErrorBodySchema } from "../../wire/openai.js";
import { GatewayCallError } from "../../discord/gateway-error.js";
import type { AppEnv, Caller } from "../app-env.js";
import { newId } from "../auth/key-material.js";
import type { Env } from "../env.js";
import { toGatewayError } from "../errors.js";
import { countRefusals } from "../metrics/refusals.js";
import { arenaRoutes } from "../routes/arena.js";
import { conversationsRoutes } from "../routes/conversations.js";
import { modelsRoutes } from "../routes/models.js";
import { usageRoutes } from "../routes/usage.js";

const ModelListSchema = z.looseObject({ data: z.array(z.looseObject({ id: z.string() })) });
const UsageSchema = z.record(z.string(), z.unknown());
const DeletedSchema = z.looseObject({ deleted: z.boolean() });

/** Who each in-process request is from: set by the client below, never from anything a request carries. */
const callers = new WeakMap<Request, Caller>();

const app = new Hono<AppEnv>();
app.use(async (c, next) => {
  c.set("requestId", newId("req"));
  const caller = callers.get(c.req.raw);
  if (!caller) throw new Error("in-process gateway call without a caller");
  c.set("caller", caller);
  await next();
});
app.use("/v1/*", countRefusals);
app.route("/v1/models", modelsRoutes);
app.route("/v1/conversations", conversationsRoutes);
app.route("/v1/arena", arenaRoutes);
app.route("/v1/usage", usageRoutes);
app.onError((err, c) => {
  const e = toGatewayError(err);
  if (e.status >= 500) console.error("discord: gateway call failed", err);
  return c.json(e.toBody(), e.status, e.headers);
});

/** How long a turn waits in all for the conversation's previous turn to be stored (409 conversation_busy), as the bot does. */
const BUSY_WAIT_MAX_MS = 15_000;

/** A started turn: the assistant message's id and the SSE body. */
export interface TurnResponse {
  assistantMessageId: string | null;
  body: ReadableStream<Uint8Array>;
}

/** The calls Discord commands make, as one bot-role caller. */
export class InProcessGateway {
  readonly #env: Env;
  readonly #ctx: ExecutionContext;
  readonly #caller: Caller;

  constructor(args: { env: Env; ctx: ExecutionContext; caller: Caller }) {
    this.#env = args.env;
    this.#ctx = args.ctx;
    this.#caller = args.caller;
  }

  async listModels(): Promise<string[]> {
    const res = await this.#call("GET", "/v1/models");
    return ModelListSchema.parse(await res.json()).data.map((m) => m.id);
  }

  /** Creates the conversation for `external_id`, or returns the existing one (idempotent). */
  async ensureConversation(body: CreateConversationBody): Promise<Conversation> {
    return ConversationSchema.parse(await (await this.#call("POST", "/v1/conversations", body)).json());
  }

  async findConversation(args: { externalId: string; user?: string | undefined }): Promise<Conversation | null> {
    const q = new URLSearchParams({ external_id: args.externalId });
    if (args.user) q.set("user", args.user);
    const list = ConversationListSchema.parse(await (await this.#call("GET", `/v1/conversations?${q}`)).json());
    return list.data.find((c) => c.external_id === args.externalId) ?? null;
  }

  async deleteConversation(id: string, user?: string): Promise<boolean> {
    const q = user ? `?${new URLSearchParams({ user })}` : "";
    try {
      return DeletedSchema.parse(await (await this.#call("DELETE", `/v1/conversations/${encodeURIComponent(id)}${q}`)).json()).deleted;
    } catch (error) {
      if (error instanceof GatewayCallError && error.status === 404) return false;
      throw error;
    }
  }

  /** Gives (true) or withdraws (false) consent to export the conversation as training data. */
  async setTrainingConsent(args: { conversationId: string; consent: boolean; user?: string | undefined }): Promise<Conversation> {
    const body = { training_consent: args.consent, ...(args.user ? { user: args.user } : {}) };
    return ConversationSchema.parse(await (await this.#call("POST", `/v1/conversations/${encodeURIComponent(args.conversationId)}`, body)).json());
  }

  /** Sends a user message and returns the streamed reply; waits out a busy conversation like the bot. */
  async sendTurn(args: { conversationId: string; body: TurnBody; signal: AbortSignal }): Promise<TurnResponse> {
    const path = `/v1/conversations/${encodeURIComponent(args.conversationId)}/messages`;
    let waitedMs = 0;
    for (;;) {
      try {
        const res = await this.#call("POST", path, { ...args.body, stream: true }, args.signal);
        if (!res.body) throw new GatewayCallError({ message: "turn response has no body", status: 502 });
        return { assistantMessageId: res.headers.get(TURN_HEADERS.assistantMessageId), body: res.body };
      } catch (error) {
        if (!(error instanceof GatewayCallError) || error.code !== "conversation_busy") throw error;
        const delayMs = Math.max(1, error.retryAfterSeconds ?? 1) * 1000;
        if (waitedMs + delayMs > BUSY_WAIT_MAX_MS) throw error;
        waitedMs += delayMs;
        await new Promise((r) => setTimeout(r, delayMs));
      }
    }
  }

  async usage(user: string): Promise<Record<string, unknown>> {
    return UsageSchema.parse(await (await this.#call("GET", `/v1/usage?${new URLSearchParams({ user })}`)).json());
  }

  async createBattle(body: CreateBattleBody): Promise<ArenaTurnResult> {
    return ArenaTurnResultSchema.parse(await (await this.#call("POST", "/v1/arena/battles", { ...body, stream: false })).json());
  }

  async voteBattle(args: { battleId: string; winner: ArenaWinner; user: string }): Promise<ArenaBattle> {
    const res = await this.#call("POST", `/v1/arena/battles/${encodeURIComponent(args.battleId)}/vote`, { winner: args.winner, user: args.user });
    return ArenaBattleSchema.parse(await res.json());
  }

  async getBattle(battleId: string, user: string): Promise<ArenaBattle> {
    const res = await this.#call("GET", `/v1/arena/battles/${encodeURIComponent(battleId)}?${new URLSearchParams({ user })}`);
    return ArenaBattleWithMessagesSchema.parse(await res.json());
  }

  async #call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const request = new Request(`http://in-process${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    callers.set(request, this.#caller);
    const res = await app.fetch(request, this.#env, this.#ctx);
    if (res.ok) return res;
    throw await errorFromResponse(res);
  }
}

async function errorFromResponse(res: Response): Promise<GatewayCallError> {
  const text = await res.text().catch(() => "");
  let parsed: z.infer<typeof ErrorBodySchema> | null = null;
  try {
    const r = ErrorBodySchema.safeParse(JSON.parse(text));
    parsed = r.success ? r.data : null;
  } catch {
    parsed = null;
  }
  const retryAfter = Number(res.headers.get("retry-after"));
  const shouldRetry = res.headers.get("x-should-retry");
  return new GatewayCallError({
    message: parsed?.error.message ?? `gateway answered ${res.status}`,
    status: res.status,
    type: parsed?.error.type ?? null,
    code: parsed?.error.code ?? null,
    retryAfterSeconds: res.headers.has("retry-after") && Number.isFinite(retryAfter) ? retryAfter : null,
    shouldRetry: shouldRetry === null ? null : shouldRetry !== "false",
  });
}
