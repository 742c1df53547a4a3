/**
 * Client load for the pool-dynamics benchmark: conversation turns and plain chat completions
 * against the gateway, each recorded with the worker that answered (x-altiplano-worker).
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { RequestRecord } from "./analysis.js";

const MODEL = "vicuna-13b-v1.5";
const WORKER_HEADER = "x-altiplano-worker";
/** A request the gateway has not answered by then counts as a client error. */
const REQUEST_TIMEOUT_MS = 60_000;
const CreatedConversation = z.object({ id: z.string() });
const ErrorBody = z.object({ error: z.object({ code: z.string().nullable() }) });

/** A minimal gateway client that records every request. */
export class LoadClient {
  constructor(
    private readonly url: string,
    private readonly key: string,
    readonly maxTokens: number,
  ) {}

  async createConversation(): Promise<string> {
    const res = await this.post("/v1/conversations", {});
    if (res.status !== 201) throw new Error(`creating a conversation failed: ${res.status} ${await res.text()}`);
    return CreatedConversation.parse(await res.json()).id;
  }

  /** One non-streamed turn of a conversation. */
  turn(conversationId: string, content: string): Promise<RequestRecord> {
    return this.timed(conversationId, `/v1/conversations/${conversationId}/messages`, { content, max_tokens: this.maxTokens });
  }

  /**
   * One plain chat completion. The prompt's leading blocks differ from every other request's,
   * so prefix affinity spreads these over the workers like independent users.
   */
  chat(): Promise<RequestRecord> {
    const content = `Question ${randomUUID()}: how do llamas and alpacas live in the high Andes, and what do they eat?`;
    return this.timed(null, "/v1/chat/completions", { model: MODEL, max_tokens: this.maxTokens, messages: [{ role: "user", content }] });
  }

  private post(path: string, body: unknown): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  }

  private async timed(conversationId: string | null, path: string, body: unknown): Promise<RequestRecord> {
    const startedAt = Date.now();
    try {
      const res = await this.post(path, body);
      const text = await res.text();
      const record: RequestRecord = { conversationId, startedAt, endedAt: Date.now(), status: res.status, worker: res.headers.get(WORKER_HEADER) };
      if (res.status === 200) return record;
      const parsed = ErrorBody.safeParse(safeJson(text));
      const code = parsed.success ? parsed.data.error.code : null;
      return { ...record, error: code ?? `http-${res.status} ${text.slice(0, 60).replace(/\s+/g, " ")}` };
    } catch (err) {
      return { conversationId, startedAt, endedAt: Date.now(), status: 0, worker: null, error: err instanceof Error ? err.name : "fetch-failed" };
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A running steady load. */
export interface SteadyLoad {
  readonly records: RequestRecord[];
  /** Stops sending and resolves once every request in flight has ended. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A steady stream of about `ratePerSecond` requests: `conversations` fresh conversations sending
 * turns one after another, and `chatClients` clients sending plain chat completions, each client
 * paced to an equal share of the rate (a slow answer delays that client, it does not pile up).
 */
export async function startSteadyLoad(o: { client: LoadClient; conversations: number; chatClients: number; ratePerSecond: number }): Promise<SteadyLoad> {
  const records: RequestRecord[] = [];
  const ids = await Promise.all(Array.from({ length: o.conversations }, () => o.client.createConversation()));
  const clients = o.conversations + o.chatClients;
  const periodMs = (clients * 1_000) / o.ratePerSecond;
  let stopping = false;
  const loop = async (index: number, send: (n: number) => Promise<RequestRecord>): Promise<void> => {
    // Spread the clients' phases over one period.
    let next = Date.now() + (index * periodMs) / clients;
    for (let n = 0; ; n++) {
      await sleep(Math.max(0, next - Date.now()));
      if (stopping) return;
      records.push(await send(n));
      next = Math.max(next + periodMs, Date.now());
    }
  };
  const loops = [
    ...ids.map((id, i) => loop(i, (n) => o.client.turn(id, `turn ${n}: tell me more about llamas`))),
    ...Array.from({ length: o.chatClients }, (_, i) => loop(ids.length + i, () => o.client.chat())),
  ];
  return {
    records,
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}
