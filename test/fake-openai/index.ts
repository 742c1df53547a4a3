/**
 * A loopback fake of an OpenAI-compatible provider for tests: POST /v1/chat/completions answers
 * as OpenAI does (a chat.completion, or chunk SSE with a usage chunk when asked), or misbehaves
 * as scripted — an HTTP error, a hang, a connection dropped mid-stream, garbage, a refused
 * connection. Plain node:http on 127.0.0.1; every request is recorded for assertions.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { z } from "zod";

export type Behaviour =
  | { kind: "ok"; text?: string; usage?: { prompt_tokens: number; completion_tokens: number }; chunks?: number }
  | { kind: "status"; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: "hang" }
  | { kind: "close-mid-stream"; afterChunks: number; text?: string }
  | { kind: "garbage"; afterChunks?: number }
  | { kind: "refuse" };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface FakeOpenAI {
  /** e.g. http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Queues behaviours, one per chat request; when the queue is empty the default applies. */
  script(...behaviours: Behaviour[]): void;
  setDefault(behaviour: Behaviour): void;
  /** Empties the queue and the record, and restores the default `ok`. */
  reset(): void;
  stop(): Promise<void>;
}

export const DEFAULT_TEXT = "Llamas are South American camelids.";
export const DEFAULT_USAGE = { prompt_tokens: 17, completion_tokens: 9 };

const ChatBody = z.object({ model: z.string(), stream: z.boolean().optional(), stream_options: z.object({ include_usage: z.boolean().optional() }).nullish() }).loose();

/** Splits `text` into `n` pieces (the last takes the rest). */
function pieces(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function chunk(model: string, delta: Record<string, unknown>, finishReason: string | null = null): string {
  const body = { id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1_700_000_000, model, choices: [{ index: 0, delta, finish_reason: finishReason }] };
  return `data: ${JSON.stringify(body)}\n\n`;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString("utf8");
  try {
    return text === "" ? null : (JSON.parse(text) as unknown);
  } catch {
    return text;
  }
}

export async function startFakeOpenAI(options: { port?: number } = {}): Promise<FakeOpenAI> {
  const requests: RecordedRequest[] = [];
  const queue: Behaviour[] = [];
  let fallback: Behaviour = { kind: "ok" };
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const path = (req.url ?? "/").split("?")[0]!;
    requests.push({ method: req.method ?? "", path, headers: { ...req.headers }, body });
    if (req.method === "GET" && path === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [{ id: "gpt-4o-mini", object: "model", created: 0, owned_by: "fake" }] }));
      return;
    }
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found", type: "invalid_request_error" } }));
      return;
    }
    const parsed = ChatBody.safeParse(body);
    const model = parsed.success ? parsed.data.model : "unknown";
    const stream = parsed.success && parsed.data.stream === true;
    const includeUsage = parsed.success && parsed.data.stream_options?.include_usage === true;
    const behaviour = queue.shift() ?? fallback;
    switch (behaviour.kind) {
      case "refuse":
        req.socket.destroy();
        return;
      case "hang":
        hanging.add(res);
        return;
      case "status":
        res.writeHead(behaviour.status, { "content-type": "application/json", ...behaviour.headers });
        res.end(JSON.stringify(behaviour.body ?? { error: { message: `fake provider error ${behaviour.status}`, type: "server_error", param: null, code: null } }));
        return;
      case "ok": {
        const text = behaviour.text ?? DEFAULT_TEXT;
        const usage = behaviour.usage ?? DEFAULT_USAGE;
        const totalUsage = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
        if (!stream) {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ id: "chatcmpl-fake", object: "chat.completion", created: 1_700_000_000, model, choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }], usage: totalUsage }));
          return;
        }
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(chunk(model, { role: "assistant", content: "" }));
        for (const piece of pieces(text, behaviour.chunks ?? 3)) res.write(chunk(model, { content: piece }));
        res.write(chunk(model, {}, "stop"));
        if (includeUsage) res.write(`data: ${JSON.stringify({ id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1_700_000_000, model, choices: [], usage: totalUsage })}\n\n`);
        res.end("data: [DONE]\n\n");
        return;
      }
      case "close-mid-stream": {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(chunk(model, { role: "assistant", content: "" }));
        for (const piece of pieces(behaviour.text ?? "one two three four five six", 6).slice(0, behaviour.afterChunks)) res.write(chunk(model, { content: piece }));
        // Six pieces of the text, so afterChunks: 2 sends its first third. Let them leave before the
        // connection drops, as a real broken stream would.
        setTimeout(() => req.socket.destroy(), 50);
        return;
      }
      case "garbage": {
        res.writeHead(200, { "content-type": "text/event-stream" });
        for (const piece of pieces("partial answer here", 3).slice(0, behaviour.afterChunks ?? 0)) res.write(chunk(model, { content: piece }));
        res.end("data: {not json\n\n");
        return;
      }
    }
  };

  const server = createServer((req, res) => {
    answer(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...behaviours) => void queue.push(...behaviours),
    setDefault: (behaviour) => void (fallback = behaviour),
    reset() {
      queue.length = 0;
      requests.length = 0;
      fallback = { kind: "ok" };
    },
    async stop() {
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
