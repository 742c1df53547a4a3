/**
 * Reading a JSON request body at an edge: content type, size limit, JSON syntax and a zod schema,
 * each failure a client error in the OpenAI shape (415, 413, 400) — never a 500.
 */
import type { Context } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../app-env.js";
import { getConfig } from "../config.js";
import { GatewayError, invalidRequest } from "../errors.js";
import { expectedWords } from "./issue-words.js";

export function payloadTooLarge(limitBytes: number): GatewayError {
  return new GatewayError({
    status: 413,
    type: "invalid_request_error",
    message: `Request body is larger than the limit of ${limitBytes} bytes.`,
    code: "payload_too_large",
  });
}

/** Reads the body as text, stopping as soon as it passes `limitBytes`. */
async function readLimitedText(request: Request, limitBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limitBytes) throw payloadTooLarge(limitBytes);
  if (!request.body) return "";
  // With a declared length within the limit the runtime holds the body to it: read it whole,
  // in one call, instead of chunk by chunk.
  const bytes = Number.isFinite(declared) ? new Uint8Array(await request.arrayBuffer()) : await readChunksUpTo(request.body, limitBytes);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalidRequest("Request body is not valid UTF-8.", null, "invalid_encoding");
  }
}

/** A body of unknown length (chunked), read until it ends or passes `limitBytes`. */
async function readChunksUpTo(body: ReadableStream<Uint8Array>, limitBytes: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel();
      throw payloadTooLarge(limitBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Describes zod issues in one sentence; unknown keys are named as unsupported parameters. The
 * issues' messages come from `expectedWords` (or a schema's own message): what was expected.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): { message: string; param: string | null } {
  const unknown = issues.flatMap((i) => (i.code === "unrecognized_keys" ? i.keys.map((k) => [...i.path, k].join(".")) : []));
  if (unknown.length > 0) {
    return {
      message: `Unsupported parameter${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}. Remove ${unknown.length > 1 ? "them" : "it"} and try again.`,
      param: unknown[0] ?? null,
    };
  }
  const first = issues[0];
  if (!first) return { message: "Invalid request body.", param: null };
  const path = first.path.map(String).join(".");
  // An absent field is reported as OpenAI does, not as a wrong value (issues carry input: see parseWith).
  if (path && first.code === "invalid_type" && "input" in first && first.input === undefined) {
    return { message: `Missing required parameter: '${path}' (${first.message}).`, param: path };
  }
  return { message: path ? `Invalid value for '${path}': ${first.message}` : `Invalid request body: ${first.message}`, param: path || null };
}

/** Parses `value` with `schema`, throwing a 400 that names the offending field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  // reportInput keeps each issue's input, so a missing field can be told from a wrong one.
  const result = schema.safeParse(value, { error: expectedWords, reportInput: true });
  if (result.success) return result.data;
  const { message, param } = describeIssues(result.error.issues);
  throw invalidRequest(message, param, result.error.issues.some((i) => i.code === "unrecognized_keys") ? "unsupported_parameter" : "invalid_value");
}

/** Reads and validates a JSON body. */
export async function readJsonBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.output<S>> {
  const contentType = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(contentType.trim())) {
    throw new GatewayError({
      status: 415,
      type: "invalid_request_error",
      message: "Send the request body as JSON with `Content-Type: application/json`.",
      code: "unsupported_media_type",
    });
  }
  const text = await readLimitedText(c.req.raw, getConfig(c.env).maxBodyBytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidRequest("Request body is not valid JSON.", null, "invalid_json");
  }
  return parseWith(schema, value);
}
