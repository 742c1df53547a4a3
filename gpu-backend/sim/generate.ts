/**
 * POST /v1/completions and POST /v1/chat/completions: validate like vLLM, plan the reply, pace
 * it through the engine, and answer as one JSON body or as vLLM's SSE stream; injected failures
 * (failures.ts) are applied here.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PromptRuntime, Tokenizer } from "../../workers/prompt/index.js";
import { chatPrompt } from "./chat-template.js";
import type { SimConfig } from "./config.js";
import type { Engine } from "./engine.js";
import type { FailureState, RequestFailure } from "./failures.js";
import { badRequest, endSse, HttpError, readJson, sendJson, startSse, writeSse } from "./http-io.js";
import { planReply, promptTextOfIds, replySampling, replyTokenIds, type ReplyPlan, type ReplySource } from "./replies.js";
import {
  chatChunk,
  chatResponse,
  chatUsageChunk,
  ChatRequestSchema,
  completionChunk,
  completionResponse,
  completionUsageChunk,
  COMPLETIONS_DEFAULT_MAX_TOKENS,
  CompletionRequestSchema,
  contextOverflowMessage,
  singlePrompt,
  stopList,
  tokenIdsProblem,
  usage,
  vllmError,
  type ResponseHead,
  type VllmUsage,
} from "./vllm-wire.js";

export interface GenerateDeps {
  config: SimConfig;
  engine: Engine;
  failures: FailureState;
  /** Template and tokenizer of the served model (`--template`). */
  runtime: PromptRuntime;
  /** Fresh seeds for requests that sample without a `seed` of their own. */
  random: () => number;
}

type Kind = "completion" | "chat";

/** A validated generation request, whichever endpoint it came through. */
interface Prepared {
  kind: Kind;
  promptTokenIds: number[];
  source: ReplySource;
  maxTokens: number;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  temperature: number | null;
  seed: number | null;
  ignoreEos: boolean;
}

/** Prompt ids as vLLM tokenizes a text prompt: BOS, then the text with its dummy prefix space. */
export function promptIdsOfText(text: string, tokenizer: Tokenizer): number[] {
  return [tokenizer.bosId, ...tokenizer.encode(text)];
}

/** Text of an OpenAI message content (string or text parts). */
export function contentText(content: string | Array<{ type: "text"; text: string }>): string {
  return typeof content === "string" ? content : content.map((p) => p.text).join("");
}

function checkModel(config: SimConfig, model: string | null | undefined): void {
  if (model !== null && model !== undefined && model !== config.model) {
    throw new HttpError(404, vllmError(404, `The model \`${model}\` does not exist.`, "model"));
  }
}

function checkContext(config: SimConfig, promptTokens: number, maxTokens: number | null): void {
  const message = contextOverflowMessage({ maxModelLen: config.maxModelLen, promptTokens, maxTokens });
  if (message !== null) throw badRequest(message);
}

/** POST /v1/completions */
export async function handleCompletions(deps: GenerateDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req, CompletionRequestSchema);
  checkModel(deps.config, body.model);
  const prompt = singlePrompt(body.prompt);
  const { tokenizer } = deps.runtime;
  if (typeof prompt !== "string") {
    const problem = tokenIdsProblem(prompt, tokenizer);
    if (problem !== null) throw badRequest(`prompt: ${problem}`, "prompt");
  }
  const promptTokenIds = typeof prompt === "string" ? promptIdsOfText(prompt, tokenizer) : prompt;
  const promptText = typeof prompt === "string" ? prompt : promptTextOfIds(prompt, tokenizer);
  const maxTokens = body.max_tokens ?? COMPLETIONS_DEFAULT_MAX_TOKENS;
  checkContext(deps.config, promptTokenIds.length, maxTokens);
  await run(deps, res, {
    kind: "completion",
    promptTokenIds,
    source: { promptText },
    maxTokens,
    stop: stopList(body.stop),
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    temperature: body.temperature ?? null,
    seed: body.seed ?? null,
    ignoreEos: body.ignore_eos === true,
  });
}

/** POST /v1/chat/completions, rendered with the gateway's own template for `--template`. */
export async function handleChat(deps: GenerateDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req, ChatRequestSchema);
  checkModel(deps.config, body.model);
  const messages = body.messages.map((m) => ({ role: m.role, content: contentText(m.content) }));
  const { text: promptText, tokenIds: promptTokenIds } = chatPrompt(messages, deps.runtime);
  const requested = body.max_completion_tokens ?? body.max_tokens ?? null;
  checkContext(deps.config, promptTokenIds.length, requested);
  const lastUser = messages.filter((m) => m.role === "user").at(-1);
  await run(deps, res, {
    kind: "chat",
    promptTokenIds,
    source: { promptText, ...(lastUser === undefined ? {} : { lastUserMessage: lastUser.content }) },
    // Without a limit vLLM lets a chat reply use the rest of the context window.
    maxTokens: requested ?? deps.config.maxModelLen - promptTokenIds.length,
    stop: stopList(body.stop),
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    temperature: body.temperature ?? null,
    seed: body.seed ?? null,
    ignoreEos: body.ignore_eos === true,
  });
}

function failureError(failure: RequestFailure): HttpError | null {
  if (failure.mode === "http-500") {
    return new HttpError(
      500,
      vllmError(500, "EngineCore encountered an issue. See stack trace (above) for the root cause. (injected by the vLLM simulator)"),
    );
  }
  if (failure.mode === "http-503") {
    return new HttpError(503, vllmError(503, "The engine is not ready to serve requests. (injected by the vLLM simulator)"));
  }
  return null;
}

async function run(deps: GenerateDeps, res: ServerResponse, p: Prepared): Promise<void> {
  const failure = deps.failures.takeForRequest();
  if (failure !== null) {
    const error = failureError(failure);
    if (error !== null) throw error;
    if (failure.mode === "hang") {
      // Accept and then say nothing: headers only for a stream, not even that otherwise.
      if (p.stream) startSse(res);
      return;
    }
  }
  const sampling = replySampling({
    seeding: deps.config.seeding,
    replyLength: deps.config.replyLength,
    configSeed: deps.config.seed,
    temperature: p.temperature,
    requestSeed: p.seed,
    promptText: p.source.promptText,
    fresh: deps.random,
    ignoreEos: p.ignoreEos,
  });
  const plan = planReply({
    tokenIds: replyTokenIds({ mode: deps.config.reply, source: p.source, maxTokens: p.maxTokens, ...sampling }),
    maxTokens: p.maxTokens,
    stop: p.stop,
  });
  const head: ResponseHead = {
    id: `${p.kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID().replaceAll("-", "")}`,
    created: Math.floor(Date.now() / 1000),
    model: deps.config.model,
  };
  const abort = new AbortController();
  // 'close' also fires after a normal end, when aborting is a no-op.
  res.on("close", () => abort.abort());
  if (p.stream) await stream(deps, res, { p, plan, head, failure, abort });
  else await respond(deps, res, { p, plan, head, failure, abort });
}

interface RunState {
  p: Prepared;
  plan: ReplyPlan;
  head: ResponseHead;
  failure: RequestFailure | null;
  abort: AbortController;
}

function usageOf(p: Prepared, plan: ReplyPlan, cachedTokens: number): VllmUsage {
  return usage({ promptTokens: p.promptTokenIds.length, completionTokens: plan.tokenIds.length, cachedTokens });
}

/**
 * Closes the connection mid-response: data already written is flushed, then FIN and teardown,
 * so the client receives exactly what was sent before and then a premature close.
 */
function closeConnection(res: ServerResponse, abort: AbortController): void {
  abort.abort();
  const socket = res.socket;
  if (socket === null) return;
  socket.once("finish", () => socket.destroy());
  socket.end();
}

async function stream(deps: GenerateDeps, res: ServerResponse, s: RunState): Promise<void> {
  const { p, plan, head, failure, abort } = s;
  startSse(res);
  if (p.kind === "chat") writeSse(res, chatChunk(head, { delta: { role: "assistant", content: "" }, finishReason: null, stopReason: null }));
  let tokenChunks = 0;
  const faultDue = (): boolean => failure !== null && tokenChunks === failure.afterTokens;
  const injectFault = (): void => {
    if (failure?.mode === "close-after") closeConnection(res, abort);
    // Stop generating but keep the connection open and silent.
    else if (failure?.mode === "stall-after") abort.abort();
    // Truncated JSON on a data line, as a crashed or garbling proxy would send it.
    else if (failure?.mode === "malformed-sse") res.write(`data: {"id":"${head.id}","object":"${p.kind === "chat" ? "chat.compl" : "text_compl"}\n\n`);
  };
  if (faultDue()) injectFault();
  if (abort.signal.aborted) return;

  const last = plan.tokenIds.length - 1;
  const result = await deps.engine.generate({
    promptTokenIds: p.promptTokenIds,
    outputTokens: plan.tokenIds.length,
    signal: abort.signal,
    onToken: (i) => {
      const text = plan.deltas[i] ?? "";
      const finishReason = i === last ? plan.finishReason : null;
      const stopReason = i === last ? plan.stopReason : null;
      // A token that completes no character yet (partial UTF-8) is not worth a chunk.
      if (text === "" && finishReason === null) return;
      const chunk =
        p.kind === "chat"
          ? chatChunk(head, { delta: { content: text }, finishReason, stopReason })
          : completionChunk(head, { text, finishReason, stopReason });
      writeSse(res, chunk);
      tokenChunks++;
      if (faultDue()) injectFault();
    },
  });
  if (result.aborted) return;
  if (p.includeUsage) {
    const u = usageOf(p, plan, result.cachedTokens);
    writeSse(res, p.kind === "chat" ? chatUsageChunk(head, u) : completionUsageChunk(head, u));
  }
  endSse(res);
}

async function respond(deps: GenerateDeps, res: ServerResponse, s: RunState): Promise<void> {
  const { p, plan, head, failure, abort } = s;
  const closeAfter = failure?.mode === "close-after" ? failure.afterTokens : null;
  if (closeAfter === 0) {
    closeConnection(res, abort);
    return;
  }
  const stallAfter = failure?.mode === "stall-after" ? failure.afterTokens : null;
  if (stallAfter === 0) return;
  const result = await deps.engine.generate({
    promptTokenIds: p.promptTokenIds,
    outputTokens: plan.tokenIds.length,
    signal: abort.signal,
    onToken: (i) => {
      if (closeAfter !== null && i + 1 === closeAfter) closeConnection(res, abort);
      if (stallAfter !== null && i + 1 === stallAfter) abort.abort();
    },
  });
  if (result.aborted) return;
  const fields = { text: plan.text, finishReason: plan.finishReason, stopReason: plan.stopReason, usage: usageOf(p, plan, result.cachedTokens) };
  const body = p.kind === "chat" ? chatResponse(head, fields) : completionResponse(head, fields);
  if (failure?.mode === "malformed-sse") {
    const text = JSON.stringify(body);
    const truncated = text.slice(0, Math.floor(text.length / 2));
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(truncated) });
    res.end(truncated);
    return;
  }
  sendJson(res, 200, body);
}
