/**
 * Reading one JSON chunk of an upstream's stream: a vLLM completion chunk or an OpenAI-compatible
 * chat chunk. Hand-checked rather than parsed with a schema: it runs for every chunk of every
 * answer (a few dozen per reply), where a schema parse was the relay's largest cost after the
 * SSE parsing itself. The accepted shapes are the OpenAI ones, extra fields ignored:
 *
 *   completion  { choices?: [{ text?: string, finish_reason?: string | null }], usage?: Usage | null }
 *   chat        { choices?: [{ delta?: { content?: string | null } | null, finish_reason?: … }], usage?: … }
 *   Usage       { prompt_tokens: number, completion_tokens: number,
 *                 prompt_tokens_details?: { cached_tokens?: number | null } | null }
 */
import type { FinishReason } from "../../wire/openai.js";

/** What one parsed chunk contributes. */
export interface ChunkContent {
  texts: string[];
  finishReason: FinishReason | null;
  usage: { promptTokens: number; completionTokens: number; cachedTokens: number } | null;
}

/** OpenAI's finish reasons, as the gateway reports them ("length" or else "stop"). */
export function finishReasonOf(reason: string | null | undefined): FinishReason | null {
  if (!reason) return null;
  return reason === "length" ? "length" : "stop";
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isNullish = (v: unknown): v is null | undefined => v === null || v === undefined;

/** The chunk's usage; undefined when it is malformed, null when there is none. */
function readUsage(v: unknown): ChunkContent["usage"] | undefined {
  if (isNullish(v)) return null;
  if (!isObject(v) || typeof v.prompt_tokens !== "number" || typeof v.completion_tokens !== "number") return undefined;
  const details = v.prompt_tokens_details;
  let cachedTokens = 0;
  if (!isNullish(details)) {
    if (!isObject(details)) return undefined;
    if (!isNullish(details.cached_tokens)) {
      if (typeof details.cached_tokens !== "number") return undefined;
      cachedTokens = details.cached_tokens;
    }
  }
  return { promptTokens: v.prompt_tokens, completionTokens: v.completion_tokens, cachedTokens };
}

function readChunk(json: unknown, textOf: (choice: Json) => string | undefined): ChunkContent | null {
  if (!isObject(json)) return null;
  const usage = readUsage(json.usage);
  if (usage === undefined) return null;
  const choices = json.choices;
  const texts: string[] = [];
  let finishReason: FinishReason | null = null;
  if (choices !== undefined) {
    if (!Array.isArray(choices)) return null;
    for (const choice of choices as unknown[]) {
      if (!isObject(choice)) return null;
      const reason = choice.finish_reason;
      if (!isNullish(reason) && typeof reason !== "string") return null;
      const text = textOf(choice);
      if (text === undefined) return null;
      texts.push(text);
      finishReason = finishReasonOf(reason) ?? finishReason;
    }
  }
  return { texts, finishReason, usage };
}

/** A vLLM `/v1/completions` stream chunk; null when it does not have that shape. */
export function readCompletionChunk(json: unknown): ChunkContent | null {
  return readChunk(json, (choice) => {
    const text = choice.text;
    if (text === undefined) return "";
    return typeof text === "string" ? text : undefined;
  });
}

/** An OpenAI-compatible `/chat/completions` stream chunk; null when it does not have that shape. */
export function readChatChunk(json: unknown): ChunkContent | null {
  return readChunk(json, (choice) => {
    const delta = choice.delta;
    if (isNullish(delta)) return "";
    if (!isObject(delta)) return undefined;
    const content = delta.content;
    if (isNullish(content)) return "";
    return typeof content === "string" ? content : undefined;
  });
}
