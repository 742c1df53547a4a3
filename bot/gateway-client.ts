/**
 * HTTP client of the Altiplano gateway: the only way the bot touches conversations. Calls that are
 * safe to repeat are retried with backoff when the gateway cannot be reached; a turn is retried
 * only if the connection was refused (the request never left).
 */
import { z } from "zod";
import type { ArenaBattle, ArenaTurnResult, ArenaWinner, CreateBattleBody } from "../wire/arena.js";
import type { Conversation, ConversationList, CreateConversationBody, Feedback, Rating, RegenerateBody, TurnBody, UpdateConversationBody } from "../wire/conversations.js";
import { ConversationListSchema, ConversationSchema, ConversationWithMessagesSchema, FeedbackSchema, TURN_HEADERS } from "../wire/conversations.js";
import { ErrorBodySchema } from "../wire/openai.js";
import { ArenaBattleSchema, ArenaBattleWithMessagesSchema, ArenaTurnResultSchema } from "../wire/arena.js";
import { backoffDelayMs } from "./backoff.js";
import { GatewayCallError } from "../discord/gateway-error.js";
import { readTurnStream, type TurnEvent } from "./sse-turn.js";

const RETRY_ATTEMPTS = 3;
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 4000;
/**
 * How long a turn waits, in all, for the gateway to let go of the conversation's previous turn
 * (409 `conversation_busy`). Turns are already one at a time per channel, so a busy answer means
 * the gateway is still storing the turn the bot just stopped: a moment normally, up to the
 * gateway's CLIENT_STALL_TIMEOUT_MS (10 s by default) if the stop broke the connection mid-write.
 * A 409 stores nothing, so asking again is safe.
 */
const BUSY_WAIT_MAX_MS = 15_000;
const BUSY_RETRY_DEFAULT_MS = 1_000;

const ModelListSchema = z.looseObject({ data: z.array(z.looseObject({ id: z.string() })) });
const DeletedSchema = z.looseObject({ id: z.string(), deleted: z.boolean() });
/** Usage's shape is the gateway's to choose; the bot shows whatever it says. */
const UsageSchema = z.record(z.string(), z.unknown());

export type ConversationWithMessages = z.infer<typeof ConversationWithMessagesSchema>;
export type BattleWithMessages = z.infer<typeof ArenaBattleWithMessagesSchema>;

/** A started turn: ids from the response headers and the stream of text. */
export interface TurnStream {
  conversationId: string | null;
  assistantMessageId: string | null;
  events: AsyncGenerator<TurnEvent>;
}

export interface GatewayClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Injected for tests; defaults to global fetch. */
  fetch?: typeof fetch;
  /** Injected for tests; defaults to setTimeout-based sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** Told of every call that failed for good (after retries) and every error inside a turn's stream: for metrics. */
  onError?: (error: GatewayCallError) => void;
}

type Safety = "safe" | "unsafe";

/** The gateway's REST API as the bot uses it. */
export class GatewayClient {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #onError: (error: GatewayCallError) => void;

  constructor(options: GatewayClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#onError = options.onError ?? (() => {});
  }

  /** Model ids the gateway serves. */
  async listModels(): Promise<string[]> {
    const res = await this.#call({ method: "GET", path: "/v1/models", safety: "safe" });
    return ModelListSchema.parse(await res.json()).data.map((m) => m.id);
  }

  /** Creates the conversation for `external_id`, or returns the existing one (idempotent). */
  async ensureConversation(body: CreateConversationBody): Promise<Conversation> {
    const res = await this.#call({ method: "POST", path: "/v1/conversations", body, safety: body.external_id ? "safe" : "unsafe" });
    return ConversationSchema.parse(await res.json());
  }

  /** The conversation mapped to `externalId` (for `user`, if given), or null. */
  async findConversation(args: { externalId: string; user?: string }): Promise<Conversation | null> {
    const q = new URLSearchParams({ external_id: args.externalId });
    if (args.user) q.set("user", args.user);
    const res = await this.#call({ method: "GET", path: `/v1/conversations?${q}`, safety: "safe" });
    const list: ConversationList = ConversationListSchema.parse(await res.json());
    return list.data.find((c) => c.external_id === args.externalId) ?? null;
  }

  /** A conversation with its messages (404 → GatewayCallError). */
  async getConversation(id: string, user?: string): Promise<ConversationWithMessages> {
    const q = user ? `?${new URLSearchParams({ user })}` : "";
    const res = await this.#call({ method: "GET", path: `/v1/conversations/${encodeURIComponent(id)}${q}`, safety: "safe" });
    return ConversationWithMessagesSchema.parse(await res.json());
  }

  /** Deletes a conversation; true if it existed. */
  async deleteConversation(id: string, user?: string): Promise<boolean> {
    const q = user ? `?${new URLSearchParams({ user })}` : "";
    try {
      const res = await this.#call({ method: "DELETE", path: `/v1/conversations/${encodeURIComponent(id)}${q}`, safety: "safe" });
      return DeletedSchema.parse(await res.json()).deleted;
    } catch (error) {
      if (error instanceof GatewayCallError && error.status === 404) return false;
      throw error;
    }
  }

  /**
   * Gives (true) or withdraws (false) consent to export the conversation as training data; `user`
   * for a conversation that belongs to an end user (a DM). Setting a value is idempotent, so it is
   * retried like a read. Returns the conversation as it now is (404 → GatewayCallError).
   */
  async setTrainingConsent(args: { conversationId: string; consent: boolean; user?: string }): Promise<Conversation> {
    const body: UpdateConversationBody = { training_consent: args.consent, ...(args.user ? { user: args.user } : {}) };
    const res = await this.#call({ method: "POST", path: `/v1/conversations/${encodeURIComponent(args.conversationId)}`, body, safety: "safe" });
    return ConversationSchema.parse(await res.json());
  }

  /** Sends a user message and streams the reply; abort `signal` to stop the generation. */
  async sendTurn(args: { conversationId: string; body: TurnBody; signal?: AbortSignal }): Promise<TurnStream> {
    return this.#stream(`/v1/conversations/${encodeURIComponent(args.conversationId)}/messages`, args.body, args.signal);
  }

  /** Replaces the last assistant reply, streaming the new one. */
  async regenerate(args: { conversationId: string; body: RegenerateBody; signal?: AbortSignal }): Promise<TurnStream> {
    return this.#stream(`/v1/conversations/${encodeURIComponent(args.conversationId)}/regenerate`, args.body, args.signal);
  }

  /**
   * Sets `user`'s rating of an assistant message (null clears it), leaving any flag or comment as
   * it is. Setting a value is idempotent, so it is retried like a read.
   */
  async setFeedback(args: { conversationId: string; messageId: string; rating: Rating | null; user: string }): Promise<Feedback> {
    const res = await this.#call({
      method: "POST",
      path: `/v1/conversations/${encodeURIComponent(args.conversationId)}/messages/${encodeURIComponent(args.messageId)}/feedback`,
      body: { rating: args.rating, user: args.user },
      safety: "safe",
    });
    return FeedbackSchema.parse(await res.json());
  }

  /** The end user's usage as the gateway reports it, or null if the gateway has no usage endpoint. */
  async usage(user: string): Promise<Record<string, unknown> | null> {
    try {
      const res = await this.#call({ method: "GET", path: `/v1/usage?${new URLSearchParams({ user })}`, safety: "safe" });
      return UsageSchema.parse(await res.json());
    } catch (error) {
      if (error instanceof GatewayCallError && error.status === 404) return null;
      throw error;
    }
  }

  /**
   * Starts an arena battle: both sides answer `body.content`, not streamed (one JSON result with
   * both replies). Never retried once it may have reached the gateway: it costs two generations.
   */
  async createBattle(body: CreateBattleBody): Promise<ArenaTurnResult> {
    const res = await this.#call({ method: "POST", path: "/v1/arena/battles", body: { ...body, stream: false }, safety: "unsafe" });
    return ArenaTurnResultSchema.parse(await res.json());
  }

  /**
   * Votes on a battle as `user`; the answer names both models. A repeat is a 409 `already_voted`;
   * a 409 `battle_busy` (its last turn still being stored) stored nothing and is asked again.
   */
  async voteBattle(args: { battleId: string; winner: ArenaWinner; user: string }): Promise<ArenaBattle> {
    const res = await this.#call({
      method: "POST",
      path: `/v1/arena/battles/${encodeURIComponent(args.battleId)}/vote`,
      body: { winner: args.winner, user: args.user },
      safety: "unsafe",
      waitWhileBusy: "battle_busy",
    });
    return ArenaBattleSchema.parse(await res.json());
  }

  /** A battle as `user` sees it (404 → GatewayCallError). */
  async getBattle(battleId: string, user: string): Promise<BattleWithMessages> {
    const res = await this.#call({
      method: "GET",
      path: `/v1/arena/battles/${encodeURIComponent(battleId)}?${new URLSearchParams({ user })}`,
      safety: "safe",
    });
    return ArenaBattleWithMessagesSchema.parse(await res.json());
  }

  async #stream(path: string, body: TurnBody | RegenerateBody, signal?: AbortSignal): Promise<TurnStream> {
    const res = await this.#call({ method: "POST", path, body: { ...body, stream: true }, safety: "unsafe", signal, waitWhileBusy: "conversation_busy" });
    if (!res.body) throw new GatewayCallError({ message: "turn response has no body", status: 502 });
    return {
      conversationId: res.headers.get(TURN_HEADERS.conversationId),
      assistantMessageId: res.headers.get(TURN_HEADERS.assistantMessageId),
      events: this.#reportingErrors(readTurnStream(res.body), signal),
    };
  }

  async #call(args: {
    method: string;
    path: string;
    body?: unknown;
    safety: Safety;
    signal?: AbortSignal;
    /** A 409 with this code stored nothing: ask again after Retry-After, for up to BUSY_WAIT_MAX_MS in all. */
    waitWhileBusy?: "conversation_busy" | "battle_busy";
  }): Promise<Response> {
    let busyWaitedMs = 0;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.#fetch(`${this.#baseUrl}${args.path}`, {
          method: args.method,
          headers: {
            authorization: `Bearer ${this.#apiKey}`,
            ...(args.body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: args.body === undefined ? undefined : JSON.stringify(args.body),
          signal: args.signal,
        });
      } catch (cause) {
        if (args.signal?.aborted) throw cause;
        const retriable = args.safety === "safe" || isConnectionRefused(cause);
        if (retriable && attempt < RETRY_ATTEMPTS) {
          await this.#sleep(backoffDelayMs({ attempt, baseMs: RETRY_BASE_MS, maxMs: RETRY_MAX_MS, random: Math.random() }));
          continue;
        }
        throw this.#reported(new GatewayCallError({ message: `gateway unreachable: ${describe(cause)}`, status: 0, cause }));
      }
      if (res.ok) return res;
      const error = await errorFromResponse(res);
      if (args.waitWhileBusy !== undefined && error.status === 409 && error.code === args.waitWhileBusy) {
        const delayMs = error.retryAfterSeconds !== null && error.retryAfterSeconds > 0 ? error.retryAfterSeconds * 1000 : BUSY_RETRY_DEFAULT_MS;
        if (busyWaitedMs + delayMs <= BUSY_WAIT_MAX_MS) {
          busyWaitedMs += delayMs;
          // Not a network failure: it does not use up the network retries.
          attempt--;
          await this.#sleep(delayMs);
          if (args.signal?.aborted) throw args.signal.reason ?? error;
          continue;
        }
      }
      throw this.#reported(error);
    }
  }

  #reported(error: GatewayCallError): GatewayCallError {
    this.#onError(error);
    return error;
  }

  /** Reports a stream's errors, except the broken read that our own abort (Stop, shutdown) causes. */
  async *#reportingErrors(events: AsyncGenerator<TurnEvent>, signal: AbortSignal | undefined): AsyncGenerator<TurnEvent> {
    try {
      yield* events;
    } catch (error) {
      if (error instanceof GatewayCallError && !signal?.aborted) this.#onError(error);
      throw error;
    }
  }
}

function isConnectionRefused(error: unknown): boolean {
  const cause = error instanceof Error ? error.cause : undefined;
  return typeof cause === "object" && cause !== null && "code" in cause && cause.code === "ECONNREFUSED";
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
    retryAfterSeconds: Number.isFinite(retryAfter) && res.headers.has("retry-after") ? retryAfter : null,
    shouldRetry: shouldRetry === null ? null : shouldRetry !== "false",
  });
}
