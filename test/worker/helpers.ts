/** Helpers for in-Worker tests: requests through the real Worker, keys seeded through D1. */
import { env, SELF } from "cloudflare:test";
import { ErrorBodySchema } from "../../wire/openai.js";
import { createApiKey } from "../../workers/auth/key-store.js";
import { usageDay } from "../../workers/db/turn-store.js";
import { applyUsageBatch } from "../../workers/db/usage-batches.js";

export const ADMIN_KEY = "sk-admin-test";
export const BASE = "https://gateway.test";

export async function call(
  method: string,
  path: string,
  options: { key?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== null) headers.authorization = `Bearer ${options.key ?? ADMIN_KEY}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  return SELF.fetch(`${BASE}${path}`, { method, headers, body });
}

let seq = 0;
/** Creates a key straight in D1 and returns its plaintext. */
export async function seedKey(role: "admin" | "user" | "bot", name = `test-${role}-${++seq}`): Promise<{ id: string; key: string }> {
  const { row, plaintext } = await createApiKey(env.DB, { name, role });
  return { id: row.id, key: plaintext };
}

export async function expectOpenAIError(res: Response, status: number, code: string | null): Promise<{ message: string; type: string; param: string | null; code: string | null }> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  const parsed = ErrorBodySchema.strict().safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`not an OpenAI error body: ${text}`);
  const error = parsed.data.error;
  if (error.code !== code) throw new Error(`expected code ${code}, got ${String(error.code)} in ${text}`);
  return { message: error.message, type: error.type, param: error.param, code: error.code };
}

/** Joins a (fake) GPU worker at `url` to the pool as its agent would, ready and idle. */
export async function registerWorker(workerId: string, url: string, model = "vicuna-13b-v1.5"): Promise<void> {
  const res = await SELF.fetch(`${BASE}/pool/heartbeat`, {
    method: "POST",
    headers: { authorization: "Bearer pool-test-token", "content-type": "application/json" },
    body: JSON.stringify({
      workerId,
      url,
      models: [{ id: model, maxModelLen: 4096 }],
      state: "ready",
      healthy: true,
      load: { running: 0, waiting: 0, kvCacheUsage: 0, prefixCacheHitRate: 0, tokensPerSecond: 0 },
    }),
  });
  if (res.status !== 200) throw new Error(`heartbeat for ${workerId} failed: ${res.status} ${await res.text()}`);
}

/** One request in the usage ledger, written as the limiter writes its batches (seeds the usage API's data). */
export async function seedUsage(input: {
  owner: { keyId: string; endUser: string };
  model: string;
  usage: { promptTokens: number; completionTokens: number; failed: boolean };
  now: number;
}): Promise<void> {
  await applyUsageBatch(env.DB, {
    batchId: crypto.randomUUID(),
    keyId: input.owner.keyId,
    rows: [
      {
        keyId: input.owner.keyId,
        endUser: input.owner.endUser,
        model: input.model,
        day: usageDay(input.now),
        requests: 1,
        promptTokens: input.usage.promptTokens,
        completionTokens: input.usage.completionTokens,
        failures: input.usage.failed ? 1 : 0,
      },
    ],
    now: input.now,
  });
}
