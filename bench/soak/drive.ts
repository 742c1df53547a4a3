/**
 * The soak's clients: conversation loops that send streamed turns back to back through the
 * gateway and record how each ended (analysis.ts' TurnRecord), plus the requests around them
 * (creating conversations, reading them back, probing the limiter).
 */
import { z } from "zod";
import type { StoredMessage, TurnRecord } from "./analysis.js";

const ErrorBody = z.object({ error: z.object({ message: z.string(), type: z.string(), code: z.string().nullable().optional() }) });
const Chunk = z.object({ choices: z.array(z.object({ delta: z.object({ content: z.string().optional() }).optional(), finish_reason: z.string().nullable().optional() })) });
const Created = z.object({ id: z.string() });
const Stored = z.object({ messages: z.array(z.object({ role: z.string(), content: z.string(), status: z.string().nullable() })) });

/** The gateway and the key a loop talks through. */
export interface Target {
  url: string;
  key: string;
}

/** Milliseconds on the run's clock. */
export type Clock = () => number;

const headers = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}`, "content-type": "application/json" });
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Creates a conversation, retrying through a transient outage. */
export async function createConversation(t: Target, externalId: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${t.url}/v1/conversations`, { method: "POST", headers: headers(t.key), body: JSON.stringify({ external_id: externalId }) });
    const text = await res.text();
    if (res.status === 201 || res.status === 200) return Created.parse(JSON.parse(text)).id;
    if (attempt >= 20) throw new Error(`creating a conversation: ${res.status} ${text}`);
    await sleep(250);
  }
}

/** The conversation as stored, read back after a phase. */
export async function readConversation(t: Target, id: string): Promise<StoredMessage[]> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${t.url}/v1/conversations/${id}`, { headers: headers(t.key) });
    const text = await res.text();
    if (res.status === 200) return Stored.parse(JSON.parse(text)).messages;
    if (attempt >= 20) throw new Error(`reading conversation ${id}: ${res.status} ${text}`);
    await sleep(250);
  }
}

export interface TurnOptions {
  target: Target;
  conversationId: string;
  content: string;
  maxTokens: number;
  clock: Clock;
  /** Longest wait for the next byte before the turn counts as broken (a hang). */
  idleTimeoutMs: number;
  /** Leave after the first token (a client disconnecting mid-stream). */
  disconnectAfterFirstToken: boolean;
}

/** One streamed turn, start to end, as its client saw it. */
export async function streamTurn(o: TurnOptions): Promise<TurnRecord & { retryAfterMs: number }> {
  const startedAt = o.clock();
  const record = { conversationId: o.conversationId, content: o.content, startedAt, firstTokenAt: null as number | null, status: 0, errorCode: null as string | null, brokenReason: null as string | null };
  const abort = new AbortController();
  let idle: NodeJS.Timeout | null = null;
  let timedOut = false;
  const armIdle = (): void => {
    if (idle) clearTimeout(idle);
    idle = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, o.idleTimeoutMs);
  };
  const finish = (outcome: TurnRecord["outcome"], retryAfterMs = 0) => {
    if (idle) clearTimeout(idle);
    return { ...record, endedAt: o.clock(), outcome, retryAfterMs };
  };
  armIdle();
  let res: Response;
  try {
    res = await fetch(`${o.target.url}/v1/conversations/${o.conversationId}/messages`, {
      method: "POST",
      headers: headers(o.target.key),
      body: JSON.stringify({ content: o.content, max_tokens: o.maxTokens, stream: true }),
      signal: abort.signal,
    });
  } catch (err) {
    // undici says only "fetch failed"; the reason is its cause.
    const cause = err instanceof Error && err.cause instanceof Error ? `${err.cause.message}` : err instanceof Error ? err.message : String(err);
    record.brokenReason = timedOut ? "no response" : `connection: ${cause.replace(/\d+(\.\d+)*:\d+/g, "…")}`;
    return finish("broken");
  }
  record.status = res.status;
  if (res.status !== 200 || res.body === null) {
    const text = await res.text().catch(() => "");
    const retryAfterMs = Math.min(2_000, 1_000 * Number(res.headers.get("retry-after") ?? 0.25));
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: judged below
    }
    const parsed = ErrorBody.safeParse(body);
    if (parsed.success) {
      record.errorCode = `${res.status} ${parsed.data.error.code ?? parsed.data.error.type}`;
      return finish("clean-error", retryAfterMs);
    }
    record.brokenReason = `status ${res.status} without an OpenAI error body`;
    return finish("broken", retryAfterMs);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let done = false;
  let errorEvent = false;
  try {
    for (;;) {
      armIdle();
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffer += decoder.decode(value, { stream: true });
      let sep: number;
      while ((sep = buffer.indexOf("\n\n")) !== -1) {
        const frame = buffer.slice(0, sep);
        buffer = buffer.slice(sep + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1] ?? "message";
        const data = frame
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart())
          .join("\n");
        if (data === "") continue;
        if (data === "[DONE]") {
          done = true;
          continue;
        }
        let json: unknown;
        try {
          json = JSON.parse(data);
        } catch {
          record.brokenReason = "a frame that is not JSON";
          abort.abort();
          return finish("broken");
        }
        if (event === "error") {
          const parsed = ErrorBody.safeParse(json);
          if (!parsed.success) {
            record.brokenReason = "an error frame not in the OpenAI shape";
            abort.abort();
            return finish("broken");
          }
          errorEvent = true;
          record.errorCode = `stream ${parsed.data.error.code ?? parsed.data.error.type}`;
          continue;
        }
        const chunk = Chunk.safeParse(json);
        if (!chunk.success) {
          record.brokenReason = "a chunk not in the OpenAI shape";
          abort.abort();
          return finish("broken");
        }
        if (record.firstTokenAt === null && (chunk.data.choices[0]?.delta?.content ?? "") !== "") {
          record.firstTokenAt = o.clock();
          if (o.disconnectAfterFirstToken) {
            abort.abort();
            return finish("disconnected");
          }
        }
      }
    }
  } catch (err) {
    record.brokenReason = timedOut ? "stream stalled (client gave up)" : `stream cut: ${err instanceof Error ? err.message : String(err)}`;
    return finish("broken");
  }
  if (errorEvent) return finish("clean-error");
  if (done) return finish("complete");
  record.brokenReason = "stream ended without [DONE] or an error";
  return finish("broken");
}

export interface LoopOptions {
  target: Target;
  conversationId: string;
  /** Unique prefix of this loop's messages. */
  label: string;
  maxTokens: number;
  clock: Clock;
  /** The loop sends no new turn from this time on. */
  stopAt: number;
  idleTimeoutMs: number;
  /** Asked before each turn: leave that turn after its first token? */
  disconnectNow: () => boolean;
  onTurn: (record: TurnRecord) => void;
}

/** Sends turns back to back until `stopAt`; after a refusal waits its Retry-After (at most 2 s). */
export async function conversationLoop(o: LoopOptions): Promise<void> {
  for (let turn = 1; o.clock() < o.stopAt; turn++) {
    const { retryAfterMs, ...record } = await streamTurn({
      target: o.target,
      conversationId: o.conversationId,
      content: `${o.label} turn ${turn}: tell me about llamas, please.`,
      maxTokens: o.maxTokens,
      clock: o.clock,
      idleTimeoutMs: o.idleTimeoutMs,
      disconnectAfterFirstToken: o.disconnectNow(),
    });
    o.onTurn(record);
    if (record.outcome !== "complete") await sleep(Math.max(100, retryAfterMs));
  }
}

/**
 * Probes a key's limiter: `limit` streamed completions at once, each long enough to overlap the
 * others; returns how many were refused for concurrency (slots some earlier request still holds).
 */
export async function probeConcurrency(t: Target, model: string, limit: number, maxTokens: number): Promise<{ admitted: number; refusedForConcurrency: number; otherErrors: number }> {
  const results = await Promise.all(
    Array.from({ length: limit }, async () => {
      const res = await fetch(`${t.url}/v1/chat/completions`, {
        method: "POST",
        headers: headers(t.key),
        body: JSON.stringify({ model, messages: [{ role: "user", content: "probe" }], max_tokens: maxTokens, stream: true }),
      });
      const text = await res.text();
      if (res.status === 200) return "admitted" as const;
      if (res.status === 429 && /concurren/i.test(text)) return "refused" as const;
      return "other" as const;
    }),
  );
  return {
    admitted: results.filter((r) => r === "admitted").length,
    refusedForConcurrency: results.filter((r) => r === "refused").length,
    otherErrors: results.filter((r) => r === "other").length,
  };
}
