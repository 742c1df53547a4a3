/**
 * The gateway client against scripted HTTP responses (an injected fetch): SSE parsing, errors in
 * the stream and in the status line, Retry-After and x-should-retry, retries of safe calls only.
 */
import { describe, expect, it } from "vitest";
import { GatewayClient } from "../../bot/gateway-client.js";
import { GatewayCallError } from "../../discord/gateway-error.js";
import type { TurnEvent } from "../../bot/sse-turn.js";

type Script = Array<Response | Error>;

function clientWith(script: Script) {
  const calls: Array<{ url: string; method: string; body: string | null }> = [];
  const sleeps: number[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), method: init?.method ?? "GET", body: typeof init?.body === "string" ? init.body : null });
    const next = script.shift();
    if (!next) throw new Error("script exhausted");
    if (next instanceof Error) throw next;
    return next;
  };
  const client = new GatewayClient({ baseUrl: "http://gw.test/", apiKey: "sk-bot", fetch: fetchFn, sleep: async (ms) => void sleeps.push(ms) });
  return { client, calls, sleeps };
}

function sse(events: string[], headers: Record<string, string> = {}): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const enc = new TextEncoder();
      // Split mid-event to exercise the parser's buffering.
      const text = events.map((e) => `data: ${e}\n\n`).join("");
      controller.enqueue(enc.encode(text.slice(0, 7)));
      controller.enqueue(enc.encode(text.slice(7)));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream", ...headers } });
}

const chunk = (content: string | null, finish: string | null = null) =>
  JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish, logprobs: null }] });

const errorJson = (status: number, code: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error: { message: "nope", type: "rate_limit_error", param: null, code } }), { status, headers: { "content-type": "application/json", ...headers } });

async function collect(events: AsyncGenerator<TurnEvent>): Promise<TurnEvent[]> {
  const out: TurnEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe("GatewayClient turns", () => {
  it("streams deltas and the finish reason, with ids from the headers", async () => {
    const { client, calls } = clientWith([
      sse([chunk("Hel"), chunk("lo"), chunk(null, "stop"), "[DONE]"], { "x-conversation-id": "conv_1", "x-message-id": "msg_2" }),
    ]);
    const turn = await client.sendTurn({ conversationId: "conv_1", body: { content: "hi", user: "42" } });
    expect(turn.assistantMessageId).toBe("msg_2");
    expect(await collect(turn.events)).toEqual([
      { kind: "delta", text: "Hel" },
      { kind: "delta", text: "lo" },
      { kind: "finish", reason: "stop" },
    ]);
    expect(calls[0]?.url).toBe("http://gw.test/v1/conversations/conv_1/messages");
    expect(JSON.parse(calls[0]?.body ?? "{}")).toEqual({ content: "hi", user: "42", stream: true });
  });

  it("turns an error event inside the stream into a GatewayCallError after the text before it", async () => {
    const { client } = clientWith([sse([chunk("Part"), JSON.stringify({ error: { message: "all workers failed", type: "server_error", param: null, code: "no_workers" } })])]);
    const turn = await client.sendTurn({ conversationId: "conv_1", body: { content: "hi" } });
    const seen: TurnEvent[] = [];
    const failure = await (async () => {
      try {
        for await (const e of turn.events) seen.push(e);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(seen).toEqual([{ kind: "delta", text: "Part" }]);
    expect(failure).toBeInstanceOf(GatewayCallError);
    expect((failure as GatewayCallError).status).toBe(503);
  });

  it("reports a stream that ends without [DONE] as a failure", async () => {
    const { client } = clientWith([sse([chunk("cut")])]);
    const turn = await client.sendTurn({ conversationId: "conv_1", body: { content: "hi" } });
    await expect(collect(turn.events)).rejects.toMatchObject({ status: 502 });
  });

  it("reports a connection that breaks mid-stream as a lost connection", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(`data: ${chunk("Hal")}\n\n`));
        controller.error(new TypeError("terminated"));
      },
    });
    const { client } = clientWith([new Response(body, { status: 200 })]);
    const turn = await client.sendTurn({ conversationId: "conv_1", body: { content: "hi" } });
    await expect(collect(turn.events)).rejects.toMatchObject({ status: 0, code: "connection_lost" });
  });

  it("reads Retry-After and x-should-retry from a 429", async () => {
    const { client } = clientWith([errorJson(429, "rate_limit_exceeded", { "retry-after": "7" })]);
    await expect(client.sendTurn({ conversationId: "conv_1", body: { content: "hi" } })).rejects.toMatchObject({ status: 429, code: "rate_limit_exceeded", retryAfterSeconds: 7, shouldRetry: null });
    const quota = clientWith([errorJson(429, "insufficient_quota", { "x-should-retry": "false" })]);
    await expect(quota.client.sendTurn({ conversationId: "conv_1", body: { content: "hi" } })).rejects.toMatchObject({ shouldRetry: false, retryAfterSeconds: null });
  });

  it("does not retry a turn after a network error (it may have been accepted)", async () => {
    const { client, calls } = clientWith([new TypeError("fetch failed"), sse(["[DONE]"])]);
    await expect(client.sendTurn({ conversationId: "conv_1", body: { content: "hi" } })).rejects.toMatchObject({ status: 0 });
    expect(calls).toHaveLength(1);
  });

  it("waits while the gateway still holds the conversation's previous turn (409 conversation_busy), then streams", async () => {
    const busy = () => errorJson(409, "conversation_busy", { "retry-after": "1" });
    const { client, calls, sleeps } = clientWith([busy(), busy(), sse([chunk("ok"), chunk(null, "stop"), "[DONE]"])]);
    const turn = await client.regenerate({ conversationId: "conv_1", body: { user: "42" } });
    expect(await collect(turn.events)).toEqual([
      { kind: "delta", text: "ok" },
      { kind: "finish", reason: "stop" },
    ]);
    expect(calls).toHaveLength(3);
    expect(sleeps).toEqual([1_000, 1_000]);
  });

  it("gives up on a conversation that stays busy for 15 s, and never waits on other 409s", async () => {
    const busy = () => errorJson(409, "conversation_busy", { "retry-after": "1" });
    const stuck = clientWith(Array.from({ length: 20 }, busy));
    await expect(stuck.client.sendTurn({ conversationId: "conv_1", body: { content: "hi" } })).rejects.toMatchObject({ status: 409, code: "conversation_busy" });
    expect(stuck.sleeps.reduce((a, b) => a + b, 0)).toBe(15_000);
    expect(stuck.calls).toHaveLength(16);
    const other = clientWith([errorJson(409, "conflict")]);
    await expect(other.client.sendTurn({ conversationId: "conv_1", body: { content: "hi" } })).rejects.toMatchObject({ status: 409 });
    expect(other.sleeps).toEqual([]);
  });

  it("retries a turn whose connection was refused (nothing was sent)", async () => {
    const refused = new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
    const { client, calls } = clientWith([refused, sse(["[DONE]"])]);
    const turn = await client.sendTurn({ conversationId: "conv_1", body: { content: "hi" } });
    expect(await collect(turn.events)).toEqual([]);
    expect(calls).toHaveLength(2);
  });
});

describe("GatewayClient safe calls", () => {
  const conv = { id: "conv_1", object: "conversation", model: "m", system_prompt: null, metadata: {}, external_id: "discord:1", user: null, training_consent: false, created_at: 1, updated_at: 1 };

  it("retries network errors with backoff, up to three attempts", async () => {
    const ok = new Response(JSON.stringify(conv), { status: 200 });
    const { client, calls } = clientWith([new TypeError("fetch failed"), new TypeError("fetch failed"), ok]);
    expect((await client.ensureConversation({ external_id: "discord:1" })).id).toBe("conv_1");
    expect(calls).toHaveLength(3);
    const failing = clientWith([new TypeError("a"), new TypeError("b"), new TypeError("c"), ok]);
    await expect(failing.client.listModels()).rejects.toMatchObject({ status: 0 });
    expect(failing.calls).toHaveLength(3);
  });

  it("does not retry an HTTP error", async () => {
    const { client, calls } = clientWith([errorJson(503, "no_workers")]);
    await expect(client.listModels()).rejects.toMatchObject({ status: 503, code: "no_workers" });
    expect(calls).toHaveLength(1);
  });

  it("treats a missing usage endpoint as 'not available' and a missing conversation on delete as false", async () => {
    const { client } = clientWith([new Response("{}", { status: 404 }), errorJson(404, "not_found")]);
    expect(await client.usage("42")).toBeNull();
    expect(await client.deleteConversation("conv_9")).toBe(false);
  });

  it("finds a conversation by external id, passing the end user", async () => {
    const list = { object: "list", data: [conv], has_more: false, last_id: "conv_1" };
    const { client, calls } = clientWith([new Response(JSON.stringify(list), { status: 200 })]);
    expect((await client.findConversation({ externalId: "discord:1", user: "42" }))?.id).toBe("conv_1");
    expect(calls[0]?.url).toBe("http://gw.test/v1/conversations?external_id=discord%3A1&user=42");
  });
});

describe("GatewayClient feedback", () => {
  const feedbackJson = (rating: "up" | "down" | null) =>
    new Response(JSON.stringify({ object: "conversation.message.feedback", message_id: "msg_2", rating, flagged: false, comment: null, updated_at: 1_700_000_000 }), {
      status: 200,
      headers: { "content-type": "application/json" },
    });

  it("posts only the rating and the end user, and retries it when the gateway cannot be reached (idempotent)", async () => {
    const { client, calls } = clientWith([new TypeError("fetch failed"), feedbackJson(null)]);
    const result = await client.setFeedback({ conversationId: "conv_1", messageId: "msg_2", rating: null, user: "42" });
    expect(result.rating).toBeNull();
    expect(calls.map((c) => [c.method, c.url, c.body])).toEqual([
      ["POST", "http://gw.test/v1/conversations/conv_1/messages/msg_2/feedback", JSON.stringify({ rating: null, user: "42" })],
      ["POST", "http://gw.test/v1/conversations/conv_1/messages/msg_2/feedback", JSON.stringify({ rating: null, user: "42" })],
    ]);
  });

  it("turns a 404 into a GatewayCallError with the status", async () => {
    const { client } = clientWith([errorJson(404, "message_not_found")]);
    const error = await client.setFeedback({ conversationId: "conv_1", messageId: "msg_9", rating: "up", user: "42" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayCallError);
    expect(error).toMatchObject({ status: 404, code: "message_not_found" });
  });
});

describe("GatewayClient arena", () => {
  const side = (model: string | null) => ({ model, conversation_id: "conv_x" });
  const battleJson = (over: Record<string, unknown> = {}) => ({
    id: "bat_1",
    object: "arena.battle",
    status: "open",
    anonymous: true,
    turns: 1,
    created_at: 1,
    a: side(null),
    b: side(null),
    vote: null,
    ...over,
  });
  const replyJson = (content: string) => ({ message_id: "msg_1", content, status: "complete", finish_reason: "stop", usage: null, error: null });
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

  it("creates a battle non-streamed as the end user and reads both replies", async () => {
    const { client, calls } = clientWith([json({ ...battleJson(), replies: { a: replyJson("A says"), b: replyJson("B says") } })]);
    const result = await client.createBattle({ content: "q?", user: "42", max_tokens: 100 });
    expect(result.replies.a.content).toBe("A says");
    expect(result.replies.b.content).toBe("B says");
    expect(calls).toEqual([{ url: "http://gw.test/v1/arena/battles", method: "POST", body: JSON.stringify({ content: "q?", user: "42", max_tokens: 100, stream: false }) }]);
  });

  it("never retries a battle that may have reached the gateway (two generations)", async () => {
    const { client, calls } = clientWith([new TypeError("fetch failed")]);
    await expect(client.createBattle({ content: "q?", user: "42" })).rejects.toMatchObject({ status: 0 });
    expect(calls).toHaveLength(1);
  });

  it("votes as the end user and gets the names back; a repeat is already_voted", async () => {
    const voted = battleJson({ status: "voted", a: side("m1"), b: side("m2"), vote: { winner: "tie", voted_at: 2 } });
    const { client, calls } = clientWith([json(voted), errorJson(409, "already_voted")]);
    const battle = await client.voteBattle({ battleId: "bat_1", winner: "tie", user: "42" });
    expect([battle.a.model, battle.b.model, battle.vote?.winner]).toEqual(["m1", "m2", "tie"]);
    expect(calls[0]).toEqual({ url: "http://gw.test/v1/arena/battles/bat_1/vote", method: "POST", body: JSON.stringify({ winner: "tie", user: "42" }) });
    const again = await client.voteBattle({ battleId: "bat_1", winner: "a", user: "42" }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(GatewayCallError);
    expect(again).toMatchObject({ status: 409, code: "already_voted" });
  });

  it("asks again after Retry-After while the battle's last turn is still being stored (battle_busy)", async () => {
    const voted = battleJson({ status: "voted", a: side("m1"), b: side("m2"), vote: { winner: "a", voted_at: 2 } });
    const { client, calls, sleeps } = clientWith([errorJson(409, "battle_busy", { "retry-after": "1" }), json(voted)]);
    expect((await client.voteBattle({ battleId: "bat_1", winner: "a", user: "42" })).vote?.winner).toBe("a");
    expect(calls).toHaveLength(2);
    expect(sleeps).toEqual([1000]);
  });

  it("reads a battle as the end user", async () => {
    const { client, calls } = clientWith([json({ ...battleJson(), messages: { a: [], b: [] } })]);
    expect((await client.getBattle("bat_1", "42")).status).toBe("open");
    expect(calls[0]?.url).toBe("http://gw.test/v1/arena/battles/bat_1?user=42");
  });
});

describe("GatewayClient error reporting (for /metrics)", () => {
  function reportingClient(script: Script) {
    const reported: GatewayCallError[] = [];
    const fetchFn: typeof fetch = async () => {
      const next = script.shift();
      if (!next) throw new Error("script exhausted");
      if (next instanceof Error) throw next;
      return next;
    };
    const client = new GatewayClient({ baseUrl: "http://gw.test", apiKey: "k", fetch: fetchFn, sleep: async () => {}, onError: (e) => reported.push(e) });
    return { client, reported };
  }

  it("reports a call that failed for good once, after its retries", async () => {
    const { client, reported } = reportingClient([new TypeError("fetch failed"), new TypeError("fetch failed"), new TypeError("fetch failed")]);
    await expect(client.listModels()).rejects.toBeInstanceOf(GatewayCallError);
    expect(reported.map((e) => e.status)).toEqual([0]);
  });

  it("reports an error status, and nothing when a retry succeeded", async () => {
    const limited = reportingClient([errorJson(429, "rate_limit_exceeded", { "retry-after": "3" })]);
    await expect(limited.client.sendTurn({ conversationId: "c", body: { content: "hi" } })).rejects.toBeInstanceOf(GatewayCallError);
    expect(limited.reported.map((e) => [e.status, e.code])).toEqual([[429, "rate_limit_exceeded"]]);
    const recovered = reportingClient([new TypeError("fetch failed"), new Response(JSON.stringify({ object: "list", data: [{ id: "m" }] }), { status: 200 })]);
    expect(await recovered.client.listModels()).toEqual(["m"]);
    expect(recovered.reported).toEqual([]);
  });

  it("reports an error inside a stream", async () => {
    const { client, reported } = reportingClient([
      sse([chunk("Hel"), JSON.stringify({ error: { message: "worker died", type: "server_error", param: null, code: "upstream_error" } })]),
    ]);
    const turn = await client.sendTurn({ conversationId: "c", body: { content: "hi" } });
    await expect(collect(turn.events)).rejects.toBeInstanceOf(GatewayCallError);
    expect(reported.map((e) => e.code)).toEqual(["upstream_error"]);
  });
});
