/**
 * The critical-path budget of DESIGN.md, counted: a conversation turn makes one D1 round trip
 * before the request leaves for the GPU and one after; a stateless chat completion none at all
 * (its usage goes to the ledger in its key limiter's batched write).
 * The Worker runs in workerd against real local D1; only the GPU's HTTP answer is canned here
 * (fetch to the worker URL), since this test counts database calls, not model behaviour. The
 * pool snapshot is a Durable Object call at most once a second per isolate, not per request.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import app from "../../workers/index.js";
import type { Env } from "../../workers/env.js";
import { ADMIN_KEY, registerWorker, seedKey } from "./helpers.js";

const WORKER_URL = "http://gpu-worker.test";

function countingD1(db: D1Database, log: string[]): D1Database {
  const originals = new WeakMap<object, D1PreparedStatement>();
  const wrap = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (prop === "run" || prop === "all" || prop === "first" || prop === "raw") {
          return (...args: unknown[]) => {
            log.push("d1");
            return (target[prop] as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    originals.set(proxy, stmt);
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrap(target.prepare(query));
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          log.push("d1");
          return target.batch(statements.map((s) => originals.get(s) ?? s));
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function cannedCompletion(): Response {
  const frames = [
    { choices: [{ index: 0, text: " Hello", finish_reason: null }] },
    { choices: [{ index: 0, text: " there.", finish_reason: "stop" }] },
    { choices: [], usage: { prompt_tokens: 40, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 0 } } },
  ];
  const body = frames.map((f) => `data: ${JSON.stringify(f)}\n\n`).join("") + "data: [DONE]\n\n";
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

function setup(log: string[], worker: () => Response = cannedCompletion): Env {
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.startsWith(WORKER_URL)) {
      log.push("gpu");
      return worker();
    }
    return realFetch(input, init);
  });
  return { ...env, DB: countingD1(env.DB, log) };
}

/** Sends a request through the Worker and waits for its background work; returns status, headers and body text. */
async function send(testEnv: Env, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; text: string }> {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`https://gateway.test${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }),
    testEnv,
    ctx,
  );
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, headers: res.headers, text };
}

beforeEach(() => registerWorker("w1", WORKER_URL));

afterEach(() => {
  vi.restoreAllMocks();
});

describe("D1 round trips per turn", () => {
  it("a conversation turn: one before the GPU, one after (key cached)", async () => {
    const log: string[] = [];
    const testEnv = setup(log);
    const { key } = await seedKey("user");
    const created = await send(testEnv, key, "POST", "/v1/conversations", {});
    expect(created.status).toBe(201);
    const conversationId = z.object({ id: z.string() }).parse(JSON.parse(created.text)).id;

    log.length = 0;
    const turn = await send(testEnv, key, "POST", `/v1/conversations/${conversationId}/messages`, { content: "hi" });
    expect(turn.status).toBe(200);
    expect(log).toEqual(["d1", "gpu", "d1"]);

    log.length = 0;
    await send(testEnv, key, "POST", `/v1/conversations/${conversationId}/messages`, { content: "and streamed", stream: true });
    expect(log).toEqual(["d1", "gpu", "d1"]);
  });

  it("a turn the limits refuse: no D1 round trip at all", async () => {
    const log: string[] = [];
    const testEnv = setup(log);
    const { id, key } = await seedKey("user");
    const patched = await send(testEnv, ADMIN_KEY, "PATCH", `/admin/keys/${id}`, { limits: { requests_per_minute: 1 } });
    expect(patched.status).toBe(200);
    const created = await send(testEnv, key, "POST", "/v1/conversations", {});
    const conversationId = z.object({ id: z.string() }).parse(JSON.parse(created.text)).id;
    expect((await send(testEnv, key, "POST", `/v1/conversations/${conversationId}/messages`, { content: "first" })).status).toBe(200);

    log.length = 0;
    const refused = await send(testEnv, key, "POST", `/v1/conversations/${conversationId}/messages`, { content: "second" });
    expect(refused.status).toBe(429);
    expect(log).toEqual([]);
  });

  it("a turn every worker fails: the turn's batch, then one batch that undoes it", async () => {
    const log: string[] = [];
    const testEnv = setup(log, () => new Response(JSON.stringify({ error: { message: "boom" } }), { status: 500 }));
    const { key } = await seedKey("user");
    const created = await send(testEnv, key, "POST", "/v1/conversations", {});
    const conversationId = z.object({ id: z.string() }).parse(JSON.parse(created.text)).id;

    log.length = 0;
    const failed = await send(testEnv, key, "POST", `/v1/conversations/${conversationId}/messages`, { content: "hi" });
    expect(failed.status).toBe(503);
    expect(log).toEqual(["d1", "gpu", "d1"]);
  });

  it("a chat completion: none at all; its usage reaches the ledger in the key limiter's batch", async () => {
    const log: string[] = [];
    const testEnv = setup(log);
    const { key } = await seedKey("user");
    await send(testEnv, key, "GET", "/v1/models");
    log.length = 0;
    const res = await send(testEnv, key, "POST", "/v1/chat/completions", { model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(200);
    expect(log).toEqual(["gpu"]);
    const usage = z
      .object({ totals: z.object({ requests: z.number(), prompt_tokens: z.number(), completion_tokens: z.number() }) })
      .parse(JSON.parse((await send(testEnv, key, "GET", "/v1/usage")).text));
    expect(usage.totals).toEqual({ requests: 1, prompt_tokens: 40, completion_tokens: 2 });
  });

  it("an uncached key costs one lookup, then none", async () => {
    const log: string[] = [];
    const testEnv = setup(log);
    const { key } = await seedKey("user");
    await send(testEnv, key, "GET", "/v1/models");
    expect(log).toEqual(["d1"]);
    await send(testEnv, key, "GET", "/v1/models");
    expect(log).toEqual(["d1"]);
  });
});
