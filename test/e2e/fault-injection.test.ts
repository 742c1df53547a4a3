/**
 * Test-only fault injection (workers/faults/): off by default (its admin route does not exist);
 * on, a D1 outage during a turn is a clean 503 in the OpenAI error shape that stores nothing, an
 * outage while the reply is being stored loses nothing, and a limiter outage is a 503 that leaks
 * no concurrency slot.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startStack, type Stack } from "../../scripts/stack.js";
import { ConversationApi } from "./conversation-api.js";

const OpenAiError = z.object({ error: z.object({ message: z.string().min(1), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }) }).strict();
const Faults = z.object({ object: z.literal("faults"), remaining_ms: z.object({ d1: z.number(), limiter: z.number() }) });

let off: Stack;
let on: Stack;
let api: ConversationApi;

function adminFaults(stack: Stack, method: "GET" | "POST" | "DELETE", body?: unknown, key = stack.adminKey): Promise<Response> {
  return fetch(`${stack.url}/admin/faults`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function inject(target: "d1" | "limiter", durationMs: number): Promise<void> {
  const res = await adminFaults(on, "POST", { target, duration_ms: durationMs });
  expect(res.status).toBe(200);
  expect(Faults.parse(await res.json()).remaining_ms[target]).toBeGreaterThan(0);
}

beforeAll(async () => {
  [off, on] = await Promise.all([
    startStack({ sims: 1, sim: { fast: true } }),
    // A steady 5 ms per token, so a 60-token reply is still streaming 150 ms in.
    startStack({ sims: 1, sim: { fast: false, ttftBaseMs: 20, prefillMsPerToken: 0, itlMs: 5, itlJitterMs: 0, replyLength: "max" }, vars: { FAULT_INJECTION: "on", LIMIT_MAX_CONCURRENT: "2" } }),
  ]);
  api = new ConversationApi(on.url, on.userKey);
});

// A test that fails mid-fault must not leave the next one in it.
afterEach(async () => {
  await adminFaults(on, "DELETE");
});

afterAll(async () => {
  await Promise.all([off?.stop(), on?.stop()]);
});

describe("fault injection", () => {
  it("is off by default: /admin/faults does not exist and turns run", async () => {
    for (const method of ["GET", "POST", "DELETE"] as const) {
      const res = await adminFaults(off, method, method === "POST" ? { target: "d1", duration_ms: 5_000 } : undefined);
      expect(res.status).toBe(404);
      OpenAiError.parse(await res.json());
    }
    const offApi = new ConversationApi(off.url, off.userKey);
    const conv = await offApi.create({});
    await offApi.send(conv.id, { content: "hello", max_tokens: 8 });
    expect((await offApi.get(conv.id)).messages.map((m) => m.role)).toEqual(["user", "assistant"]);
  });

  it("is for admins only when on", async () => {
    const res = await adminFaults(on, "POST", { target: "d1", duration_ms: 1_000 }, on.userKey);
    expect(res.status).toBe(403);
    OpenAiError.parse(await res.json());
    const bad = await adminFaults(on, "POST", { target: "disk", duration_ms: 1_000 });
    expect(bad.status).toBe(400);
    expect(Faults.parse(await (await adminFaults(on, "GET")).json()).remaining_ms).toEqual({ d1: 0, limiter: 0 });
  });

  it("a turn while D1 fails is a clean 503 that stores nothing; the next turn stores exactly once", async () => {
    const conv = await api.create({});
    await inject("d1", 1_500);
    for (const stream of [false, true]) {
      const res = await api.raw("POST", `/v1/conversations/${conv.id}/messages`, { content: `lost? ${stream}`, max_tokens: 8, stream });
      expect(res.status).toBe(503);
      expect(res.headers.get("content-type")).toMatch(/application\/json/);
      const body = OpenAiError.parse(await res.json());
      expect(body.error.type).toBe("service_unavailable_error");
    }
    await new Promise((r) => setTimeout(r, 1_700));
    await api.send(conv.id, { content: "after the outage", max_tokens: 8 });
    const stored = await api.get(conv.id);
    expect(stored.messages.map((m) => [m.role, m.role === "user" ? m.content : m.status])).toEqual([
      ["user", "after the outage"],
      ["assistant", "length"],
    ]);
  });

  it("D1 failing while a streamed reply is stored loses nothing and stores it once", async () => {
    const conv = await api.create({});
    let injected: Promise<void> | null = null;
    const reply = await api.sendStreamed(conv.id, { content: "store me", max_tokens: 60 }, {
      onText: (text) => {
        // Mid-stream: the outage overlaps the end of the reply, when the gateway stores it.
        if (injected === null && text.length > 0) injected = inject("d1", 600);
      },
    });
    await injected;
    expect(reply.status).toBe(200);
    const stored = await api.get(conv.id);
    expect(stored.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(stored.messages[1]!.content).toBe(reply.text);
    // The conversation's lock was released: the next turn is not refused as busy.
    await api.send(conv.id, { content: "next", max_tokens: 4 });
    expect((await api.get(conv.id)).messages).toHaveLength(4);
  });

  it("a turn while the limiter fails is a clean 503; afterwards no concurrency slot is held", async () => {
    const conv = await api.create({});
    await inject("limiter", 1_000);
    const res = await api.raw("POST", `/v1/conversations/${conv.id}/messages`, { content: "limited?", max_tokens: 8 });
    expect(res.status).toBe(503);
    OpenAiError.parse(await res.json());
    await new Promise((r) => setTimeout(r, 1_200));
    // LIMIT_MAX_CONCURRENT is 2: two streams at once are admitted only if the refused turn holds no slot.
    const other = await api.create({});
    const both = await Promise.all([conv.id, other.id].map((id) => api.sendStreamed(id, { content: "after", max_tokens: 40 })));
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect((await api.get(conv.id)).messages.map((m) => m.content)).toEqual(["after", both[0]!.text]);
  });
});
