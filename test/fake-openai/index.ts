/**
 * A loopback fake of an OpenAI-compatible provider for tests. `POST /v1/chat/completions` answers
 * as OpenAI does (one `chat.completion`, or `chat.completion.chunk` SSE ending in a usage chunk
 * when `stream_options.include_usage` asks for one, then `data: [DONE]`), or misbehaves as
 * scripted: an HTTP error, a hang, a connection dropped mid-stream, garbage instead of SSE, a
 * connection closed without any response. `GET /v1/models` lists one model. Plain node:http on
 * 127.0.0.1; every request is recorded, in order, for assertions.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export type Behaviour =
  /**
   * Answers `text` (split into `chunks` content deltas when streamed, `chunkDelayMs` apart) with
   * `usage`; `usage: null` reports none at all, as servers that ignore stream_options do.
   */
  | { kind: "ok"; text?: string; usage?: Usage | null; chunks?: number; finishReason?: "stop" | "length"; chunkDelayMs?: number }
  /** Answers `status` with `body` (default: OpenAI's error JSON) and extra `headers`. */
  | { kind: "status"; status: number; body?: unknown; headers?: Record<string, string> }
  /** Reads the request and never answers (until the client gives up or stop()). */
  | { kind: "hang" }
  /** Streams `afterChunks` content deltas of `text` (one word each, see midStreamText), then destroys the socket. */
  | { kind: "close-mid-stream"; afterChunks: number; text?: string }
  /** Answers 200 text/event-stream, sends `afterChunks` good content chunks, then `data: {not json` and non-SSE bytes, then ends. */
  | { kind: "garbage"; afterChunks?: number }
  /** Destroys the connection without sending a byte. */
  | { kind: "refuse" };

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. /v1/chat/completions. */
  path: string;
  /** Node's lower-cased request headers. */
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body; the raw text when it is not JSON; null when empty. */
  body: unknown;
  /** Date.now() when the request arrived (before its body was read). */
  at: number;
  /** Set when the connection closed before the fake finished its answer (a client giving up, or a refuse/hang/close). */
  closedEarlyAt?: number;
}

export interface FakeOpenAI {
  /** e.g. http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  /** Every request, in arrival order (the array is emptied in place by reset()). */
  requests: RecordedRequest[];
  /** Queues behaviours, one per incoming POST /v1/chat/completions; when the queue is empty the default applies. */
  script(...behaviours: Behaviour[]): void;
  /**
   * Decides the behaviour from the request body when the queue is empty (null = the default): a
   * test double whose answers depend on what it was asked, such as a judge whose verdicts a test
   * chooses per question.
   */
  respondWith(responder: ((body: unknown) => Behaviour | null) | null): void;
  /** The behaviour when the queue is empty (initially `{kind: "ok"}`). */
  setDefault(behaviour: Behaviour): void;
  /** Empties the queue and the record, and restores the default `ok`. */
  reset(): void;
  /** Closes every connection (hanging ones too) and the server. */
  stop(): Promise<void>;
}

/** What `ok` answers when it names no text. */
export const DEFAULT_TEXT = "Llamas are South American camelids, kept for wool and as pack animals.";
/** What `ok` reports when it names no usage. */
export const DEFAULT_USAGE: Usage = { prompt_tokens: 17, completion_tokens: 9 };
/** What `close-mid-stream` streams when it names no text. */
export const MID_STREAM_TEXT = "one two three four five six";
/** The upstream model GET /v1/models lists. */
export const FAKE_MODEL_ID = "gpt-4o-mini";
const CREATED = 1_700_000_000;

/** Splits `text` into `n` consecutive pieces of about equal length (fewer when the text is short). */
export function splitText(text: string, n: number): string[] {
  if (text === "") return [];
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, n)));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The word-wise content deltas of `close-mid-stream`: "one", " two", " three", … */
export function midStreamPieces(text = MID_STREAM_TEXT): string[] {
  return text.split(/(?= )/);
}

/** The text a client has when `close-mid-stream` with `afterChunks` drops the connection. */
export function midStreamText(afterChunks: number, text = MID_STREAM_TEXT): string {
  return midStreamPieces(text).slice(0, afterChunks).join("");
}

/** OpenAI's error body for a status. */
export function openAIErrorBody(message: string, type = "server_error", code: string | null = null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

function sse(json: unknown): string {
  return `data: ${JSON.stringify(json)}\n\n`;
}

function chunkFrame(id: string, model: string, delta: Record<string, unknown>, finishReason: string | null = null): string {
  return sse({ id, object: "chat.completion.chunk", created: CREATED, model, system_fingerprint: "fp_fake", choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString("utf8");
  if (text === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function field(body: unknown, name: string): unknown {
  return typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

export async function startFakeOpenAI(options: { port?: number } = {}): Promise<FakeOpenAI> {
  const requests: RecordedRequest[] = [];
  const queue: Behaviour[] = [];
  let fallback: Behaviour = { kind: "ok" };
  let responder: ((body: unknown) => Behaviour | null) | null = null;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let served = 0;

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };

  const chat = (req: IncomingMessage, res: ServerResponse, body: unknown, behaviour: Behaviour): void => {
    const model = typeof field(body, "model") === "string" ? (field(body, "model") as string) : FAKE_MODEL_ID;
    const stream = field(body, "stream") === true;
    const includeUsage = field(field(body, "stream_options"), "include_usage") === true;
    const id = `chatcmpl-fake-${++served}`;
    switch (behaviour.kind) {
      case "refuse":
        req.socket.destroy();
        return;
      case "hang":
        // Keep the response open; the socket is destroyed by the client giving up or by stop().
        return;
      case "status":
        json(res, behaviour.status, behaviour.body ?? openAIErrorBody(`The fake provider answered ${behaviour.status}.`), behaviour.headers);
        return;
      case "ok": {
        const text = behaviour.text ?? DEFAULT_TEXT;
        const u = behaviour.usage === undefined ? DEFAULT_USAGE : behaviour.usage;
        const usage = u && { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.prompt_tokens + u.completion_tokens };
        const finishReason = behaviour.finishReason ?? "stop";
        if (!stream) {
          json(res, 200, {
            id,
            object: "chat.completion",
            created: CREATED,
            model,
            system_fingerprint: "fp_fake",
            choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs: null, finish_reason: finishReason }],
            ...(usage ? { usage } : {}),
          });
          return;
        }
        const frames = [
          chunkFrame(id, model, { role: "assistant", content: "", refusal: null }),
          ...splitText(text, behaviour.chunks ?? 3).map((piece) => chunkFrame(id, model, { content: piece })),
          chunkFrame(id, model, {}, finishReason),
          ...(includeUsage && usage ? [sse({ id, object: "chat.completion.chunk", created: CREATED, model, system_fingerprint: "fp_fake", choices: [], usage })] : []),
          "data: [DONE]\n\n",
        ];
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const delay = behaviour.chunkDelayMs ?? 0;
        if (delay <= 0) {
          res.end(frames.join(""));
          return;
        }
        const next = (): void => {
          if (res.destroyed) return;
          const frame = frames.shift();
          if (frame === undefined) return void res.end();
          res.write(frame);
          const timer = setTimeout(() => {
            timers.delete(timer);
            next();
          }, delay);
          timers.add(timer);
        };
        next();
        return;
      }
      case "close-mid-stream": {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        res.write(chunkFrame(id, model, { role: "assistant", content: "", refusal: null }));
        for (const piece of midStreamPieces(behaviour.text).slice(0, behaviour.afterChunks)) res.write(chunkFrame(id, model, { content: piece }));
        // Let the chunks leave before the connection drops, as with a real broken stream.
        setTimeout(() => req.socket.destroy(), 50);
        return;
      }
      case "garbage": {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const good = behaviour.afterChunks ?? 0;
        if (good > 0) res.write(chunkFrame(id, model, { role: "assistant", content: "", refusal: null }));
        for (const piece of midStreamPieces().slice(0, good)) res.write(chunkFrame(id, model, { content: piece }));
        res.write("data: {not json\n\n");
        res.end("<html><body>502 Bad Gateway</body></html>\n");
        return;
      }
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = Date.now();
    const path = (req.url ?? "/").split("?")[0]!;
    const body = await readBody(req);
    const record: RecordedRequest = { method: req.method ?? "", path, headers: { ...req.headers }, body, at };
    requests.push(record);
    res.on("close", () => {
      if (!res.writableFinished) record.closedEarlyAt = Date.now();
    });
    if (req.method === "GET" && path === "/v1/models") {
      json(res, 200, { object: "list", data: [{ id: FAKE_MODEL_ID, object: "model", created: CREATED, owned_by: "fake-openai" }] });
      return;
    }
    if (req.method === "POST" && path === "/v1/chat/completions") {
      chat(req, res, body, queue.shift() ?? responder?.(body) ?? fallback);
      return;
    }
    json(res, 404, openAIErrorBody(`Invalid URL (${req.method} ${path})`, "invalid_request_error"));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, openAIErrorBody(`fake provider crashed: ${String(err)}`));
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let stopped: Promise<void> | null = null;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...behaviours) => void queue.push(...behaviours),
    setDefault: (behaviour) => void (fallback = behaviour),
    respondWith: (fn) => void (responder = fn),
    reset() {
      queue.length = 0;
      requests.length = 0;
      fallback = { kind: "ok" };
      responder = null;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return stopped;
    },
  };
}
