/**
 * Every route × every role × another key's (or another end user's) resources, through the real
 * Worker. Actors: no credentials, a garbage key, the pool token, a user key (owner of the user
 * resources), another user key, a bot key acting for end user alice, the same bot key for bob, the
 * bot key without `user`, and the admin key. Resources: a user key's conversation, alice's
 * private conversation under the bot key, the bot key's shared conversation (created without
 * `user`), and usage ledger rows of each. No GPU worker is registered, so a generation that passed
 * authentication, ownership and validation answers 503 `no_workers` — which is what those cells
 * expect. Each cell gets fresh resources, so a DELETE in one cannot affect another.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ErrorBodySchema } from "../../wire/openai.js";
import { createConversation } from "../../workers/db/conversation-store.js";
import { ADMIN_KEY, call, seedKey, seedUsage } from "./helpers.js";


const MODEL = "vicuna-13b-v1.5";
const POOL_TOKEN = "pool-test-token";

const ACTORS = ["none", "garbage", "pool", "owner", "other_user", "bot_alice", "bot_bob", "bot", "admin"] as const;
type Actor = (typeof ACTORS)[number];
const KEY_ACTORS: readonly Actor[] = ["owner", "other_user", "bot_alice", "bot_bob", "bot", "admin"];
const UNAUTHENTICATED: readonly Actor[] = ["none", "garbage", "pool"];

interface Fixture {
  owner: { id: string; key: string };
  otherUser: { id: string; key: string };
  bot: { id: string; key: string };
  /** Conversations: the owner key's, alice's private one under the bot key, the bot key's shared one. */
  conv: { owner: string; alice: string; shared: string };
  /** A key admin routes act on. */
  victimKeyId: string;
}

let convSeq = 0;
async function conversation(keyId: string, endUser: string): Promise<string> {
  const id = `conv_matrix${++convSeq}${Math.random().toString(36).slice(2, 8)}`;
  await createConversation(env.DB, { id, owner: { keyId, endUser }, externalId: null, model: MODEL, systemPrompt: null, metadata: {}, now: Date.now() });
  return id;
}

async function usageRow(keyId: string, endUser: string, tokens: number): Promise<void> {
  await seedUsage({
    owner: { keyId, endUser },
    model: MODEL,
    usage: { promptTokens: tokens, completionTokens: 0, failed: false },
    now: Date.now(),
  });
}

async function fixture(): Promise<Fixture> {
  const [owner, otherUser, bot, victim] = await Promise.all([seedKey("user"), seedKey("user"), seedKey("bot"), seedKey("user")]);
  const conv = { owner: await conversation(owner.id, ""), alice: await conversation(bot.id, "alice"), shared: await conversation(bot.id, "") };
  await usageRow(owner.id, "", 10);
  await usageRow(bot.id, "alice", 20);
  await usageRow(bot.id, "", 300);
  return { owner, otherUser, bot, conv, victimKeyId: victim.id };
}

/** The credentials and `user` an actor sends. */
function identity(actor: Actor, fx: Fixture): { key: string | null; user?: string } {
  switch (actor) {
    case "none":
      return { key: null };
    case "garbage":
      return { key: "sk-alt-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" };
    case "pool":
      return { key: POOL_TOKEN };
    case "owner":
      return { key: fx.owner.key };
    case "other_user":
      // A user key naming alice: `user` is only a label for it and must open nothing.
      return { key: fx.otherUser.key, user: "alice" };
    case "bot_alice":
      return { key: fx.bot.key, user: "alice" };
    case "bot_bob":
      return { key: fx.bot.key, user: "bob" };
    case "bot":
      return { key: fx.bot.key };
    case "admin":
      return { key: ADMIN_KEY };
  }
}

interface Req {
  method: string;
  path: string;
  body?: Record<string, unknown>;
}

/** Adds the actor's `user` to the query (GET/DELETE) or the body (POST). */
function withUser(req: Req, user: string | undefined): Req {
  if (user === undefined) return req;
  if (req.body !== undefined) return { ...req, body: { ...req.body, user } };
  const sep = req.path.includes("?") ? "&" : "?";
  return { ...req, path: `${req.path}${sep}user=${encodeURIComponent(user)}` };
}

interface Row {
  name: string;
  request: (fx: Fixture) => Req;
  expected: Record<Actor, number>;
  /** Extra check of a 200 body for one actor (what it may see). */
  check?: (actor: Actor, fx: Fixture, body: unknown) => void;
  /** Whether a given actor's user is sent; heartbeats and admin routes take no `user`. */
  sendsUser?: boolean;
}

/** Expected statuses: unauthenticated actors 401, key actors `ok`, except those given. */
function statuses(ok: number, overrides: Partial<Record<Actor, number>> = {}): Record<Actor, number> {
  const out = {} as Record<Actor, number>;
  for (const a of ACTORS) out[a] = UNAUTHENTICATED.includes(a) ? 401 : ok;
  return { ...out, ...overrides };
}

/** Admin routes: 401 without a key, 403 for user and bot keys, `ok` for admin. */
function adminOnly(ok: number): Record<Actor, number> {
  return statuses(403, { admin: ok });
}

/** Conversation routes: `ok` for the actors that may see the conversation, 404 for every other key. */
function visibleTo(ok: number, who: readonly Actor[]): Record<Actor, number> {
  const out = statuses(404);
  for (const a of who) out[a] = ok;
  return out;
}

const SEES: Record<keyof Fixture["conv"], readonly Actor[]> = {
  owner: ["owner"],
  alice: ["bot_alice"],
  shared: ["bot_alice", "bot_bob", "bot"],
};

const TARGETS = Object.keys(SEES) as Array<keyof Fixture["conv"]>;

const conversationRows: Row[] = TARGETS.flatMap((target): Row[] => [
  { name: `GET /v1/conversations/{${target}}`, request: (fx) => ({ method: "GET", path: `/v1/conversations/${fx.conv[target]}` }), expected: visibleTo(200, SEES[target]) },
  { name: `DELETE /v1/conversations/{${target}}`, request: (fx) => ({ method: "DELETE", path: `/v1/conversations/${fx.conv[target]}` }), expected: visibleTo(200, SEES[target]) },
  {
    name: `POST /v1/conversations/{${target}}/messages`,
    request: (fx) => ({ method: "POST", path: `/v1/conversations/${fx.conv[target]}/messages`, body: { content: "hello" } }),
    // Past authentication and ownership, no GPU worker is registered: 503 no_workers.
    expected: visibleTo(503, SEES[target]),
  },
  {
    name: `POST /v1/conversations/{${target}}/regenerate`,
    request: (fx) => ({ method: "POST", path: `/v1/conversations/${fx.conv[target]}/regenerate`, body: {} }),
    // An owner reaches the check that there is a reply to regenerate: 400.
    expected: visibleTo(400, SEES[target]),
  },
]);

/** Usage totals each key actor sees by default (today): its own scope, never another key's. */
const USAGE_TOTAL: Partial<Record<Actor, number>> = { owner: 10, other_user: 0, bot_alice: 20, bot_bob: 0, bot: 320, admin: 0 };

function listedIds(body: unknown): string[] {
  const data = (body as { data?: Array<{ id?: unknown }> }).data ?? [];
  return data.map((d) => String(d.id));
}

const rows: Row[] = [
  { name: "GET /health", request: () => ({ method: "GET", path: "/health" }), expected: statuses(200, { none: 200, garbage: 200, pool: 200 }) },
  { name: "GET /v1/models", request: () => ({ method: "GET", path: "/v1/models" }), expected: statuses(200) },
  { name: "GET /v1/models/{id}", request: () => ({ method: "GET", path: `/v1/models/${MODEL}` }), expected: statuses(200) },
  {
    name: "POST /v1/chat/completions",
    request: () => ({ method: "POST", path: "/v1/chat/completions", body: { model: MODEL, messages: [{ role: "user", content: "hi" }] } }),
    expected: statuses(503),
  },
  { name: "POST /v1/conversations", request: () => ({ method: "POST", path: "/v1/conversations", body: {} }), expected: statuses(201) },
  {
    name: "GET /v1/conversations",
    request: () => ({ method: "GET", path: "/v1/conversations?limit=100" }),
    expected: statuses(200),
    check: (actor, fx, body) => {
      const ids = listedIds(body);
      for (const target of TARGETS) expect(ids.includes(fx.conv[target]), `${actor} listing ${target}`).toBe(SEES[target].includes(actor));
    },
  },
  ...conversationRows,
  {
    name: "GET /v1/usage",
    request: () => ({ method: "GET", path: "/v1/usage" }),
    expected: statuses(200),
    check: (actor, _fx, body) => expect((body as { totals: { total_tokens: number } }).totals.total_tokens, `${actor} usage`).toBe(USAGE_TOTAL[actor]),
  },
  {
    name: "GET /admin/usage?key_id={owner}",
    request: (fx) => ({ method: "GET", path: `/admin/usage?key_id=${fx.owner.id}` }),
    expected: adminOnly(200),
    sendsUser: false,
  },
  { name: "GET /admin/keys", request: () => ({ method: "GET", path: "/admin/keys" }), expected: adminOnly(200), sendsUser: false },
  { name: "POST /admin/keys", request: () => ({ method: "POST", path: "/admin/keys", body: { name: "matrix", role: "user" } }), expected: adminOnly(201), sendsUser: false },
  { name: "GET /admin/keys/{id}", request: (fx) => ({ method: "GET", path: `/admin/keys/${fx.victimKeyId}` }), expected: adminOnly(200), sendsUser: false },
  {
    name: "PATCH /admin/keys/{id}",
    request: (fx) => ({ method: "PATCH", path: `/admin/keys/${fx.victimKeyId}`, body: { limits: { requests_per_minute: 1 } } }),
    expected: adminOnly(200),
    sendsUser: false,
  },
  { name: "DELETE /admin/keys/{id}", request: (fx) => ({ method: "DELETE", path: `/admin/keys/${fx.victimKeyId}` }), expected: adminOnly(200), sendsUser: false },
  { name: "GET /admin/pool", request: () => ({ method: "GET", path: "/admin/pool" }), expected: adminOnly(200), sendsUser: false },
  // No such worker: an admin gets past authorization to the 404 worker_not_found.
  ...(["drain", "cordon", "uncordon"] as const).map(
    (action): Row => ({ name: `POST /admin/pool/workers/{id}/${action}`, request: () => ({ method: "POST", path: `/admin/pool/workers/w-missing/${action}` }), expected: adminOnly(404), sendsUser: false }),
  ),
  { name: "DELETE /admin/pool/workers/{id}", request: () => ({ method: "DELETE", path: "/admin/pool/workers/w-missing" }), expected: adminOnly(404), sendsUser: false },
  { name: "GET /metrics", request: () => ({ method: "GET", path: "/metrics" }), expected: adminOnly(200), sendsUser: false },
  {
    name: "POST /pool/heartbeat",
    request: () => ({
      method: "POST",
      path: "/pool/heartbeat",
      // Draining and unhealthy: the pool records it but never routes to it, so generation cells stay 503.
      body: {
        workerId: `w-matrix-${Math.random().toString(36).slice(2, 8)}`,
        url: "http://127.0.0.1:9",
        models: [{ id: MODEL, maxModelLen: 4096 }],
        state: "draining",
        healthy: false,
        load: { running: 0, waiting: 0, kvCacheUsage: 0, prefixCacheHitRate: 0, tokensPerSecond: 0 },
      },
    }),
    // The pool token opens heartbeats and nothing else; no API key, admin included, opens them.
    expected: statuses(401, { pool: 200 }),
    sendsUser: false,
  },
  { name: "GET /v1/unknown", request: () => ({ method: "GET", path: "/v1/unknown" }), expected: statuses(404) },
];

const OK_CODES = new Set([200, 201, 204]);
/** The error code each refusal status must carry in this matrix (a 503 must be no_workers: past auth, not a limiter fault). */
const CODE_OF_STATUS: Partial<Record<number, string>> = { 400: "nothing_to_regenerate", 401: "invalid_api_key", 403: "forbidden", 503: "no_workers" };

async function runCell(row: Row, actor: Actor): Promise<number> {
  const fx = await fixture();
  const who = identity(actor, fx);
  const req = row.sendsUser === false ? row.request(fx) : withUser(row.request(fx), who.user);
  const res = await call(req.method, req.path, { key: who.key, ...(req.body === undefined ? {} : { body: req.body }) });
  const text = await res.text();
  if (OK_CODES.has(res.status)) {
    if (row.check) row.check(actor, fx, JSON.parse(text));
  } else {
    // Every refusal has the OpenAI error shape.
    const parsed = ErrorBodySchema.strict().safeParse(JSON.parse(text));
    expect(parsed.success, `${row.name} as ${actor}: ${text}`).toBe(true);
    const code = CODE_OF_STATUS[res.status];
    if (code !== undefined) expect(parsed.data?.error.code, `${row.name} as ${actor}`).toBe(code);
  }
  return res.status;
}

describe(`route × role × another's resources (${rows.length} routes × ${ACTORS.length} actors = ${rows.length * ACTORS.length} cells)`, () => {
  it.each(rows.map((r) => [r.name, r] as const))("%s", async (_name, row) => {
    const actual = {} as Record<Actor, number>;
    for (const actor of ACTORS) actual[actor] = await runCell(row, actor);
    expect(actual).toEqual(row.expected);
  });

  it("covers every key actor for every route (no cell left unspecified)", () => {
    for (const row of rows) expect(Object.keys(row.expected).sort()).toEqual([...ACTORS].sort());
    expect(KEY_ACTORS.length + UNAUTHENTICATED.length).toBe(ACTORS.length);
  });
});

describe("refusals change nothing", () => {
  it("a refused DELETE leaves the conversation to its owner; the pool token is no API key", async () => {
    const fx = await fixture();
    // A non-owner DELETE is a 404 and leaves the conversation in place for its owner.
    expect((await call("DELETE", `/v1/conversations/${fx.conv.owner}`, { key: fx.otherUser.key })).status).toBe(404);
    expect((await call("GET", `/v1/conversations/${fx.conv.owner}`, { key: fx.owner.key })).status).toBe(200);
    expect((await call("GET", "/v1/models", { key: POOL_TOKEN })).status).toBe(401);
  });
});
