/**
 * The simulator's HTTP server (node:http): vLLM's routes, api-key check, x-worker-id on every
 * response, admin routes for failure injection, and the listening socket that `refuse` closes
 * and reopens on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { promptRuntime } from "../../workers/prompt/index.js";
import { chatPrompt } from "./chat-template.js";
import { resolveSimConfig, type SimConfig } from "./config.js";
import { Engine } from "./engine.js";
import { FailureSpecSchema, FailureState, type FailureSpec } from "./failures.js";
import { contentText, handleChat, handleCompletions, promptIdsOfText, type GenerateDeps } from "./generate.js";
import { HttpError, readJson, sendJson, sendText } from "./http-io.js";
import { renderMetrics } from "./metrics.js";
import { mulberry32 } from "./random.js";
import { modelList, TokenizeRequestSchema } from "./vllm-wire.js";

export const SIMULATOR_VERSION = "altiplano-vllm-simulator-0.1.0";

/** Handle on a started simulator. */
export interface RunningSimulator {
  /** Base URL, e.g. http://127.0.0.1:8001 (no trailing slash). */
  url: string;
  port: number;
  workerId: string;
  /** Base URL of the --admin-port listener, when one was asked for. */
  adminUrl?: string;
  /** Sets (null clears) the injected failure; resolves once the listener state matches. */
  setFailure(f: FailureSpec | null): Promise<void>;
  /** Stops listening, drops every connection and aborts every request. */
  stop(): Promise<void>;
}

type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

const NOT_FOUND = { detail: "Not Found" };
const METHOD_NOT_ALLOWED = { detail: "Method Not Allowed" };
const UNAUTHORIZED = { error: "Unauthorized" };

/** Starts a simulator; options not given take the config defaults. */
export async function startSimulator(options: Partial<SimConfig> = {}): Promise<RunningSimulator> {
  const config = resolveSimConfig({ ...options });
  const engine = new Engine({
    latency: config,
    fast: config.fast,
    maxNumSeqs: config.maxNumSeqs,
    cacheBlocks: config.cacheBlocks,
    random: mulberry32(config.seed),
  });
  const failures = new FailureState();
  // Its own stream, apart from the engine's latency jitter, so sampling seeds do not shift the timing.
  const runtime = promptRuntime(config.template);
  const deps: GenerateDeps = { config, engine, failures, runtime, random: mulberry32((config.seed ^ 0x5eed5eed) >>> 0) };
  const sockets = new Set<Socket>();
  // With port 0 the id waits for the real port; nobody can reach us before that anyway.
  let workerId = config.workerId ?? (config.port === 0 ? "" : `sim-${config.port}`);
  let port = config.port;
  let main: Server | null = null;
  let admin: Server | null = null;
  let reopenTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const isAuthorized = (req: IncomingMessage): boolean =>
    config.apiKey === undefined || req.headers.authorization === `Bearer ${config.apiKey}`;

  const routes: Record<string, Partial<Record<string, Route>>> = {
    "/health": { GET: (_req, res) => sendText(res, 200, "") },
    "/version": { GET: (_req, res) => sendJson(res, 200, { version: SIMULATOR_VERSION, simulator: true, worker_id: workerId, model: config.model }) },
    "/metrics": {
      GET: (_req, res) => {
        const stats = engine.prefixCache.stats();
        const text = renderMetrics({
          modelName: config.model,
          ...engine.snapshot(),
          prefixCacheQueries: stats.queries,
          prefixCacheHits: stats.hits,
          counters: engine.counters,
        });
        sendText(res, 200, text, "text/plain; version=0.0.4; charset=utf-8");
      },
    },
    "/v1/models": { GET: (_req, res) => sendJson(res, 200, modelList({ model: config.model, maxModelLen: config.maxModelLen, created: Math.floor(Date.now() / 1000) })) },
    "/v1/completions": { POST: (req, res) => handleCompletions(deps, req, res) },
    "/v1/chat/completions": { POST: (req, res) => handleChat(deps, req, res) },
    "/tokenize": {
      POST: async (req, res) => {
        const body = await readJson(req, TokenizeRequestSchema);
        const withBos =
          "prompt" in body
            ? promptIdsOfText(body.prompt, runtime.tokenizer)
            : chatPrompt(body.messages.map((m) => ({ role: m.role, content: contentText(m.content) })), runtime).tokenIds;
        // Without special tokens: no BOS (the template's markers stay the ids they are).
        const tokens = body.add_special_tokens === false ? withBos.slice(1) : withBos;
        sendJson(res, 200, { count: tokens.length, max_model_len: config.maxModelLen, tokens, token_strs: null });
      },
    },
    "/admin/failure": {
      GET: (_req, res) => sendJson(res, 200, { failure: failures.current() }),
      POST: async (req, res) => {
        const spec = await readJson(req, FailureSpecSchema);
        await setFailure(spec);
        sendJson(res, 200, { failure: failures.current() });
      },
      DELETE: async (_req, res) => {
        await setFailure(null);
        sendJson(res, 200, { failure: null });
      },
    },
  };

  const handle = (allowed: (path: string) => boolean) => async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader("x-worker-id", workerId);
    const path = new URL(req.url ?? "/", "http://sim").pathname;
    try {
      const methods = allowed(path) ? routes[path] : undefined;
      if (methods === undefined) return sendJson(res, 404, NOT_FOUND);
      const route = methods[req.method ?? "GET"];
      if (route === undefined) return sendJson(res, 405, METHOD_NOT_ALLOWED);
      // Like vLLM's --api-key: only /v1/* is guarded (and our admin routes); health, metrics,
      // version and tokenize stay open.
      if ((path.startsWith("/v1") || path.startsWith("/admin")) && !isAuthorized(req)) return sendJson(res, 401, UNAUTHORIZED);
      await route(req, res);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
      } else if (error instanceof HttpError) {
        sendJson(res, error.status, error.body);
      } else {
        process.stderr.write(`sim ${workerId}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        sendJson(res, 500, { error: { message: "internal simulator error", type: "InternalServerError", param: null, code: 500 } });
      }
    }
  };

  const makeServer = (allowed: (path: string) => boolean): Server => {
    const server = createServer((req, res) => void handle(allowed)(req, res));
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    return server;
  };

  const listen = (server: Server, onPort: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(onPort, config.host, () => {
        server.off("error", reject);
        const address = server.address();
        resolve(typeof address === "object" && address !== null ? address.port : onPort);
      });
    });

  const openMain = async (): Promise<void> => {
    if (main !== null || stopped) return;
    const server = makeServer(() => true);
    port = await listen(server, port);
    main = server;
  };

  const closeMain = (): void => {
    if (main === null) return;
    // close() stops accepting at once; idle keep-alive connections would otherwise let a
    // client keep talking to a "refusing" worker.
    main.close();
    main.closeIdleConnections();
    main = null;
  };

  const setFailure = async (spec: FailureSpec | null): Promise<void> => {
    clearTimeout(reopenTimer);
    failures.set(spec);
    if (spec?.mode === "refuse") {
      closeMain();
      if (spec.durationMs !== undefined) {
        reopenTimer = setTimeout(() => {
          if (failures.current() === spec) void setFailure(null);
        }, spec.durationMs);
      }
      return;
    }
    try {
      await openMain();
    } catch (error) {
      process.stderr.write(`sim ${workerId}: could not reopen port ${port}: ${String(error)}\n`);
    }
  };

  await openMain();
  workerId = config.workerId ?? `sim-${port}`;
  let adminUrl: string | undefined;
  if (config.adminPort !== undefined) {
    admin = makeServer((path) => path.startsWith("/admin") || path === "/health");
    adminUrl = `http://${config.host}:${await listen(admin, config.adminPort)}`;
  }
  if (config.failure !== undefined) {
    await setFailure({
      mode: config.failure,
      ...(config.failureAfterTokens === undefined ? {} : { afterTokens: config.failureAfterTokens }),
      ...(config.failureCount === undefined ? {} : { count: config.failureCount }),
      ...(config.failureDurationMs === undefined ? {} : { durationMs: config.failureDurationMs }),
    });
  }

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    clearTimeout(reopenTimer);
    engine.close();
    const closing = [main, admin].filter((s): s is Server => s !== null).map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    main = null;
    for (const socket of sockets) socket.destroy();
    await Promise.all(closing);
  };

  return {
    url: `http://${config.host}:${port}`,
    port,
    workerId,
    ...(adminUrl === undefined ? {} : { adminUrl }),
    setFailure,
    stop,
  };
}
