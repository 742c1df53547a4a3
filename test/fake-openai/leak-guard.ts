/**
 * Client-side helpers for tests that put the fake provider behind the gateway: a fetch that
 * records every response a client receives (status, headers, whole body, streams included) so a
 * test can assert a secret never reached it, and a raw SSE reader that keeps `event: error`
 * frames (which the SDK turns into exceptions and the conversation helper skips).
 */
import { createParser } from "eventsource-parser";
import { ConversationApi } from "../e2e/conversation-api.js";

export interface SeenResponse {
  url: string;
  status: number;
  headers: [string, string][];
  /** The whole body as the client received it (a stream's every frame), or why it could not be read. */
  body: Promise<string>;
}

export interface LeakGuard {
  /** A drop-in fetch (for `new OpenAI({ fetch })` or direct calls) that records each response. */
  fetch: typeof fetch;
  seen: SeenResponse[];
  /** Every place `secret` appears in a recorded response (headers, bodies); waits for bodies to end. */
  findLeaks(secret: string): Promise<string[]>;
  clear(): void;
}

export function leakGuard(): LeakGuard {
  const seen: SeenResponse[] = [];
  const guarded: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const headers: [string, string][] = [];
    res.headers.forEach((value, name) => headers.push([name, value]));
    // A tee of the body: the caller reads (or abandons) its branch, we read ours to the end.
    const body = res.clone().text().catch((err: unknown) => `<body unreadable: ${String(err)}>`);
    seen.push({ url, status: res.status, headers, body });
    return res;
  };
  return {
    fetch: guarded,
    seen,
    async findLeaks(secret) {
      const leaks: string[] = [];
      for (const response of seen) {
        for (const [name, value] of response.headers) if (value.includes(secret)) leaks.push(`${response.url}: header ${name}`);
        const body = await Promise.race([response.body, new Promise<string>((r) => setTimeout(() => r("<body still open after 10 s>"), 10_000).unref())]);
        if (body.includes(secret)) leaks.push(`${response.url}: body (status ${response.status})`);
        // A secret split across chunks is not in any one frame: check the assembled text too.
        else if (streamedText(body).includes(secret)) leaks.push(`${response.url}: streamed text (status ${response.status})`);
      }
      return leaks;
    },
    clear: () => void (seen.length = 0),
  };
}

/** The content deltas of an SSE chat-completion body, joined ("" when it is not one). */
function streamedText(body: string): string {
  let text = "";
  const parser = createParser({
    onEvent(event) {
      try {
        const chunk = JSON.parse(event.data) as { choices?: { delta?: { content?: unknown } }[] };
        for (const choice of chunk.choices ?? []) if (typeof choice.delta?.content === "string") text += choice.delta.content;
      } catch {
        // [DONE], or not JSON
      }
    },
  });
  parser.feed(body);
  return text;
}

export interface SseEvent {
  /** The SSE event name (`error` for the gateway's error frame), undefined for plain data. */
  event: string | undefined;
  data: string;
}

/** A raw request's whole answer: status, headers, body text and, for an event stream, its events. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  events: SseEvent[];
}

/** Sends a request with `doFetch` and reads the whole answer, parsing SSE when it is an event stream. */
export async function rawRequest(doFetch: typeof fetch, url: string, init: { method: string; key: string; body?: unknown }): Promise<RawAnswer> {
  const res = await doFetch(url, {
    method: init.method,
    headers: { authorization: `Bearer ${init.key}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  const events: SseEvent[] = [];
  if ((res.headers.get("content-type") ?? "").includes("text/event-stream")) {
    const parser = createParser({ onEvent: (e) => void events.push({ event: e.event, data: e.data }) });
    parser.feed(text);
  }
  return { status: res.status, headers: res.headers, text, events };
}

/** The end-to-end tests' conversation client, with every request going through the guard's fetch. */
export function guardedConversationApi(guard: LeakGuard, url: string, key: string): ConversationApi {
  return new (class extends ConversationApi {
    override raw(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
      return guard.fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    }
  })(url, key);
}
