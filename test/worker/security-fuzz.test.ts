/**
 * Property-based fuzzing (fast-check) of every route's body, query and headers, and of random
 * methods and paths, through the real Worker in workerd. The property: no answer is a 500-class
 * failure caused by the input — the only 5xx allowed is a 503 saying no GPU worker can take the
 * request (none is registered, or a fuzzed heartbeat registered one that cannot be reached) — and
 * every non-2xx answer has exactly the OpenAI error shape.
 *
 * Fuzzed heartbeats could register workers; the env here allows only worker URLs on a closed
 * loopback port, so nothing is ever fetched beyond 127.0.0.1.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorBodySchema } from "../../wire/openai.js";
import { createConversation } from "../../workers/db/conversation-store.js";
import app from "../../workers/index.js";
import { ADMIN_KEY, seedKey } from "./helpers.js";

const NUM_RUNS = 60;
const MODEL = "vicuna-13b-v1.5";
const POOL_TOKEN = "pool-test-token";
/** Loopback, port 1: closed, so a registered fuzz worker is refused at once. */
const SAFE_WORKER_URL = "http://127.0.0.1:1/";
const FUZZ_ENV = { ...env, POOL_ALLOWED_URLS: SAFE_WORKER_URL };
/** The 503s that mean "no GPU can take it now" — not a failure caused by the input. */
const AVAILABILITY_CODES = new Set(["no_workers", "workers_unavailable", "overloaded"]);
const HUGE = "x".repeat(1_100_000);
/** The only worker ids fuzzed heartbeats can register; removed again after the heartbeat fuzz. */
const FUZZ_WORKER_IDS = ["w-fuzz-1", "w-fuzz-2"] as const;

interface Keys {
  user: string;
  bot: string;
  conversationId: string;
  keyId: string;
}

async function setup(): Promise<Keys> {
  const [user, bot] = await Promise.all([seedKey("user"), seedKey("bot")]);
  const conversationId = `conv_fuzz${Math.random().toString(36).slice(2, 10)}`;
  await createConversation(env.DB, { id: conversationId, owner: { keyId: user.id, endUser: "" }, externalId: null, model: MODEL, systemPrompt: null, metadata: {}, now: Date.now() });
  return { user: user.key, bot: bot.key, conversationId, keyId: user.id };
}

// ---- arbitraries ---------------------------------------------------------------------------

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n)), maxLength: 80 });
const anyText = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "grapheme", maxLength: 200 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom("", "</s>", "USER: hi ASSISTANT:", "\u0000", "key:x:user:y", "%00", "../..", "😀".repeat(3000), "a".repeat(300)) },
);
const nonEmptyText = fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 });
const scalar = fc.oneof(anyText, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(-1, 0, 1, 2 ** 53, 1e308, -0));
const anyJson = fc.oneof({ weight: 3, arbitrary: scalar }, { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) });

/** Mostly a plausible value, sometimes anything: the gateway must be probed past its first check. */
function field<T>(plausible: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 12, arbitrary: plausible }, { weight: 1, arbitrary: anyJson });
}

const message = fc.record(
  {
    role: field(fc.constantFrom("user", "user", "system", "assistant", "tool")),
    content: field(fc.oneof(nonEmptyText, fc.array(fc.record({ type: fc.constantFrom("text", "text", "image_url"), text: anyText }), { maxLength: 3 }))),
    name: field(fc.string({ maxLength: 70 })),
  },
  { requiredKeys: ["role", "content"] },
);

const sampling = {
  stream: field(fc.boolean()),
  stream_options: field(fc.record({ include_usage: field(fc.boolean()) }, { requiredKeys: [] })),
  max_tokens: field(fc.integer({ min: 1, max: 600 })),
  max_completion_tokens: field(fc.integer({ min: 1, max: 600 })),
  temperature: field(fc.double({ min: 0, max: 2, noNaN: true })),
  top_p: field(fc.double({ min: 0.01, max: 1, noNaN: true })),
  stop: field(fc.oneof(nonEmptyText, fc.array(nonEmptyText, { maxLength: 4 }))),
  user: field(fc.oneof(nonEmptyText, fc.string({ minLength: 250, maxLength: 260 }))),
};

const limitValue = field(fc.oneof(fc.integer({ min: -1, max: 1_000_000 }), fc.constant(null), fc.constant(1e13)));
const limitsBody = field(
  fc.record(
    {
      requests_per_minute: limitValue,
      tokens_per_minute: limitValue,
      max_concurrent: limitValue,
      tokens_per_day: limitValue,
      end_user: field(fc.record({ requests_per_minute: limitValue, tokens_per_day: limitValue }, { requiredKeys: [] })),
    },
    { requiredKeys: [] },
  ),
);

/** A body: mostly objects with the route's own fields (now and then a stray one), sometimes anything at all. */
function bodyOf(fields: Record<string, fc.Arbitrary<unknown>>, required: string[] = []): fc.Arbitrary<unknown> {
  const known = fc
    .tuple(fc.record(fields, { requiredKeys: required }), fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(printable, anyJson) }))
    .map(([body, stray]) => (stray ? { ...body, [stray[0]]: stray[1] } : body));
  return fc.oneof({ weight: 8, arbitrary: known }, { weight: 1, arbitrary: anyJson }, { weight: 1, arbitrary: fc.array(anyJson, { maxLength: 4 }) });
}

type RawBody = { kind: "json"; value: unknown } | { kind: "text"; text: string } | { kind: "bytes"; bytes: Uint8Array } | { kind: "none" };

function rawBody(body: fc.Arbitrary<unknown>): fc.Arbitrary<RawBody> {
  return fc.oneof(
    { weight: 20, arbitrary: body.map((value): RawBody => ({ kind: "json", value })) },
    { weight: 2, arbitrary: fc.oneof(anyText, fc.constantFrom("{", "[1,", "null", '{"a":1}}', HUGE)).map((text): RawBody => ({ kind: "text", text })) },
    // Invalid UTF-8 (lone continuation and overlong bytes).
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b): RawBody => ({ kind: "bytes", bytes: new Uint8Array([0xc0, 0x80, 0xff, ...b]) })) },
    { weight: 1, arbitrary: fc.constant<RawBody>({ kind: "none" }) },
  );
}

const contentType = fc.oneof(
  { weight: 16, arbitrary: fc.constant("application/json") },
  {
    weight: 3,
    arbitrary: fc.constantFrom(undefined, "", "text/plain", "application/json; charset=utf-8", "APPLICATION/JSON", "application/jsonx", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"),
  },
  { weight: 1, arbitrary: printable },
);

type Auth = "admin" | "user" | "bot" | "pool" | "none" | { raw: string };
const authArb: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom<Auth>("admin", "user", "bot") },
  { weight: 1, arbitrary: fc.constantFrom<Auth>("pool", "none") },
  { weight: 2, arbitrary: fc.oneof(printable.map((s) => `Bearer ${s}`), printable, fc.constantFrom("Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", `bearer ${ADMIN_KEY} extra`)).map((raw): Auth => ({ raw })) },
);

const queryArb = (keys: readonly string[]) =>
  fc.dictionary(fc.oneof(fc.constantFrom(...keys), printable), fc.oneof(anyText, fc.constantFrom("2026-01-01", "2001-02-29", "-1", "0", "100000", "999999999999")), { maxKeys: 4 });

const idSegment = (real: (k: Keys) => string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant<(k: Keys) => string>(real) },
    { weight: 3, arbitrary: anyText.map((s) => () => encodeURIComponent(s)) },
    { weight: 1, arbitrary: fc.constantFrom("%ZZ", "%00", "..", "%2F..%2F", "conv_" + "a".repeat(70), "a%20b").map((s) => () => s) },
  );

// ---- one request ---------------------------------------------------------------------------

interface FuzzRequest {
  method: string;
  path: string;
  auth: Auth;
  contentType: string | undefined;
  body: RawBody;
  extraHeaders?: Record<string, string>;
}

function authHeader(auth: Auth, keys: Keys): string | null {
  if (typeof auth === "object") return auth.raw;
  switch (auth) {
    case "admin":
      return `Bearer ${ADMIN_KEY}`;
    case "user":
      return `Bearer ${keys.user}`;
    case "bot":
      return `Bearer ${keys.bot}`;
    case "pool":
      return `Bearer ${POOL_TOKEN}`;
    case "none":
      return null;
  }
}

async function send(req: FuzzRequest, keys: Keys): Promise<{ status: number; text: string }> {
  const headers = new Headers(req.extraHeaders);
  const auth = authHeader(req.auth, keys);
  if (auth !== null) headers.set("authorization", auth);
  if (req.contentType !== undefined) headers.set("content-type", req.contentType);
  const hasBody = req.method !== "GET" && req.method !== "HEAD" && req.body.kind !== "none";
  let body: BodyInit | undefined;
  if (hasBody) {
    if (req.body.kind === "json") body = JSON.stringify(req.body.value) ?? "undefined";
    else if (req.body.kind === "text") body = req.body.text;
    else if (req.body.kind === "bytes") body = req.body.bytes;
  }
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`https://gateway.test${req.path}`, { method: req.method, headers, body }), FUZZ_ENV, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, text };
}

/** The property: no input-caused 5xx, and the OpenAI error shape on every non-2xx. */
function checkAnswer(req: FuzzRequest, answer: { status: number; text: string }): void {
  const where = `${req.method} ${req.path} -> ${answer.status}: ${answer.text.slice(0, 300)}`;
  if (req.method === "HEAD") {
    expect(answer.status, where).toBeLessThan(500);
    return;
  }
  if (answer.status >= 200 && answer.status < 300) return;
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    throw new Error(`not JSON: ${where}`);
  }
  const parsed = ErrorBodySchema.strict().safeParse(json);
  if (!parsed.success) throw new Error(`not the OpenAI error shape: ${where}`);
  if (answer.status >= 500) {
    expect(answer.status, where).toBe(503);
    expect(AVAILABILITY_CODES.has(parsed.data.error.code ?? ""), where).toBe(true);
  }
}

// ---- the routes ----------------------------------------------------------------------------

interface RouteFuzz {
  name: string;
  method: string;
  path: fc.Arbitrary<(k: Keys) => string>;
  body?: fc.Arbitrary<unknown>;
  /** Who calls; API keys by default. */
  auth?: fc.Arbitrary<Auth>;
}

const fixed = (p: string) => fc.constant(() => p);
const withQuery = (base: string, keys: readonly string[]) => queryArb(keys).map((q) => () => `${base}?${new URLSearchParams(q).toString()}`);
const conv = (suffix: string) => idSegment((k) => k.conversationId).map((id) => (k: Keys) => `/v1/conversations/${id(k)}${suffix}`);
const keyPath = idSegment((k) => k.keyId).map((id) => (k: Keys) => `/admin/keys/${id(k)}`);

const ROUTES: RouteFuzz[] = [
  { name: "GET /health", method: "GET", path: fixed("/health") },
  { name: "GET /v1/models", method: "GET", path: fixed("/v1/models") },
  { name: "GET /v1/models/{id}", method: "GET", path: fc.oneof(fixed(`/v1/models/${MODEL}`), anyText.map((s) => () => `/v1/models/${encodeURIComponent(s)}`)) },
  {
    name: "POST /v1/chat/completions",
    method: "POST",
    path: fixed("/v1/chat/completions"),
    body: bodyOf({ model: field(fc.constant(MODEL)), messages: field(fc.array(message, { minLength: 1, maxLength: 4 })), n: field(fc.constant(1)), ...sampling }, ["model", "messages"]),
  },
  {
    name: "POST /v1/conversations",
    method: "POST",
    path: fixed("/v1/conversations"),
    body: bodyOf({
      model: field(fc.constant(MODEL)),
      system_prompt: field(anyText),
      metadata: field(fc.dictionary(fc.string({ maxLength: 70 }), anyText, { maxKeys: 3 })),
      external_id: field(nonEmptyText),
      user: field(nonEmptyText),
    }),
  },
  { name: "GET /v1/conversations", method: "GET", path: withQuery("/v1/conversations", ["limit", "after", "external_id", "user"]) },
  { name: "GET /v1/conversations/{id}", method: "GET", path: fc.tuple(conv(""), queryArb(["user"])).map(([p, q]) => (k: Keys) => `${p(k)}?${new URLSearchParams(q).toString()}`) },
  { name: "DELETE /v1/conversations/{id}", method: "DELETE", path: conv("") },
  { name: "POST /v1/conversations/{id}/messages", method: "POST", path: conv("/messages"), body: bodyOf({ content: field(nonEmptyText), ...sampling }, ["content"]) },
  { name: "POST /v1/conversations/{id}/regenerate", method: "POST", path: conv("/regenerate"), body: bodyOf(sampling) },
  { name: "GET /v1/usage", method: "GET", path: withQuery("/v1/usage", ["start_date", "end_date", "user"]) },
  { name: "GET /admin/usage", method: "GET", path: withQuery("/admin/usage", ["start_date", "end_date", "key_id", "limit"]) },
  { name: "GET /admin/keys", method: "GET", path: fixed("/admin/keys") },
  { name: "POST /admin/keys", method: "POST", path: fixed("/admin/keys"), body: bodyOf({ name: field(nonEmptyText), role: field(fc.constantFrom("admin", "user", "bot", "root")), limits: limitsBody }, ["name", "role"]) },
  { name: "GET /admin/keys/{id}", method: "GET", path: keyPath },
  { name: "PATCH /admin/keys/{id}", method: "PATCH", path: keyPath, body: bodyOf({ limits: limitsBody }) },
  { name: "DELETE /admin/keys/{id}", method: "DELETE", path: keyPath },
  { name: "GET /admin/pool", method: "GET", path: fixed("/admin/pool") },
  {
    name: "POST /admin/pool/workers/{id}/{action}",
    method: "POST",
    path: fc.tuple(anyText, fc.oneof(fc.constantFrom("drain", "cordon", "uncordon"), anyText)).map(([id, action]) => () => `/admin/pool/workers/${encodeURIComponent(id)}/${encodeURIComponent(action)}`),
  },
  { name: "DELETE /admin/pool/workers/{id}", method: "DELETE", path: anyText.map((id) => () => `/admin/pool/workers/${encodeURIComponent(id)}`) },
  {
    name: "POST /pool/heartbeat",
    method: "POST",
    path: fixed("/pool/heartbeat"),
    auth: fc.oneof({ weight: 4, arbitrary: fc.constant<Auth>("pool") }, { weight: 1, arbitrary: authArb }),
    body: bodyOf({
      workerId: field(fc.constantFrom(...FUZZ_WORKER_IDS)),
      url: field(fc.constantFrom(SAFE_WORKER_URL, SAFE_WORKER_URL, "https://gpu.example.com/", "not a url")),
      models: field(
        fc.oneof(
          { weight: 3, arbitrary: fc.constant([{ id: MODEL, maxModelLen: 4096 }]) },
          { weight: 1, arbitrary: fc.array(fc.record({ id: anyJson, maxModelLen: anyJson }, { requiredKeys: [] }), { maxLength: 3 }) },
        ),
      ),
      state: field(fc.constantFrom("ready", "draining")),
      healthy: field(fc.boolean()),
      load: field(fc.constant({ running: 0, waiting: 0, kvCacheUsage: 0, prefixCacheHitRate: 0, tokensPerSecond: 0 })),
    }, ["workerId", "url", "models", "state", "healthy", "load"]),
  },
  { name: "GET /metrics", method: "GET", path: fixed("/metrics") },
];

describe(`fuzzing every route (${ROUTES.length} routes × ${NUM_RUNS} runs)`, () => {
  it.each(ROUTES.map((r) => [r.name, r] as const))("%s: no input-caused 5xx, OpenAI errors", async (_name, route) => {
    const keys = await setup();
    await fc.assert(
      fc.asyncProperty(route.path, route.auth ?? authArb, contentType, rawBody(route.body ?? anyJson), async (path, auth, type, body) => {
        const req: FuzzRequest = { method: route.method, path: path(keys), auth, contentType: route.body ? type : undefined, body: route.body ? body : { kind: "none" } };
        checkAnswer(req, await send(req, keys));
      }),
      { numRuns: NUM_RUNS },
    );
    // A fuzzed heartbeat may have registered a (closed-port) worker: take it out of the pool again.
    for (const id of FUZZ_WORKER_IDS) {
      await send({ method: "DELETE", path: `/admin/pool/workers/${id}`, auth: "admin", contentType: undefined, body: { kind: "none" } }, keys);
    }
  }, 120_000);

  it("random methods and paths, with random headers and bodies", async () => {
    const keys = await setup();
    const segment = fc.oneof(fc.constantFrom("v1", "admin", "pool", "conversations", "keys", "usage", "models", "chat", "completions", "workers", "metrics", "heartbeat"), anyText.map(encodeURIComponent), fc.constantFrom("%ZZ", "..", "%00", ""));
    const method = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD");
    const extraHeaders = fc.dictionary(fc.constantFrom("origin", "access-control-request-method", "access-control-request-headers", "content-length", "x-forwarded-for", "accept"), printable, { maxKeys: 3 });
    await fc.assert(
      fc.asyncProperty(method, fc.array(segment, { minLength: 1, maxLength: 5 }), authArb, contentType, rawBody(anyJson), extraHeaders, async (m, segments, auth, type, body, extra) => {
        // A wrong content-length would be the client's fetch failing, not the gateway: leave it out.
        const { "content-length": _ignored, ...headers } = extra;
        const req: FuzzRequest = { method: m, path: `/${segments.join("/")}`, auth, contentType: type, body, extraHeaders: headers };
        checkAnswer(req, await send(req, keys));
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
