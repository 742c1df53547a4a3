/** Small node:http helpers for the simulator: JSON bodies in, JSON and SSE out. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { vllmError, type VllmErrorBody } from "./vllm-wire.js";

const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** A request error that becomes a vLLM error response. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, body: VllmErrorBody | Record<string, unknown>) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export function badRequest(message: string, param: string | null = null): HttpError {
  return new HttpError(400, vllmError(400, message, param));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw badRequest(`request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads and validates a JSON body; any problem is a 400 in vLLM's envelope. */
export async function readJson<T extends z.ZodType>(req: IncomingMessage, schema: T): Promise<z.infer<T>> {
  const text = await readBody(req);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw badRequest("request body is not valid JSON");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "" : `${issue.path.join(".")}: `;
    throw badRequest(`${where}${issue?.message ?? "invalid request"}`, issue?.path[0] === undefined ? null : String(issue.path[0]));
  }
  return parsed.data;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = "text/plain; charset=utf-8"): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Starts an SSE response as vLLM does (200, text/event-stream) and flushes the headers. */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
  res.flushHeaders();
}

/** One `data: <json>\n\n` event; `onFlushed` runs once the bytes are handed to the socket. */
export function writeSse(res: ServerResponse, data: unknown, onFlushed?: () => void): void {
  res.write(`data: ${JSON.stringify(data)}\n\n`, onFlushed === undefined ? undefined : () => onFlushed());
}

export function endSse(res: ServerResponse): void {
  res.end("data: [DONE]\n\n");
}
