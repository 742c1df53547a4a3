import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Heartbeat } from "../../wire/heartbeat.js";
import { AdminPool, AdminPoolWorker, runtimeLabel } from "../../wire/pool-admin.js";
import { createApiKey } from "../../workers/auth/key-store.js";

const POOL_TOKEN = "pool-test-token";
const ADMIN_KEY = "sk-admin-test";

function uniqueId(label: string): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}`;
}

function beat(workerId: string, overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    workerId,
    url: `http://127.0.0.1:9/${workerId}`,
    models: [{ id: "vicuna-13b-v1.5", maxModelLen: 4096 }],
    state: "ready",
    healthy: true,
    load: { running: 1, waiting: 0, kvCacheUsage: 0.1, prefixCacheHitRate: 0.5, tokensPerSecond: 30 },
    ...overrides,
  };
}

function postHeartbeat(body: unknown, token: string | null = POOL_TOKEN) {
  return SELF.fetch("https://gateway.test/pool/heartbeat", {
    method: "POST",
    headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function admin(method: string, path: string, key: string | null = ADMIN_KEY) {
  return SELF.fetch(`https://gateway.test${path}`, {
    method,
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
  });
}

async function poolWorker(id: string): Promise<AdminPoolWorker | undefined> {
  const res = await admin("GET", "/admin/pool");
  expect(res.status).toBe(200);
  return AdminPool.parse(await res.json()).workers.find((worker) => worker.id === id);
}

describe("POST /pool/heartbeat", () => {
  it("joins a worker with the pool token and shows it in /admin/pool with its load", async () => {
    const id = uniqueId("join");
    const res = await postHeartbeat(beat(id));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ state: "ready", heartbeatIntervalMs: 1000 });
    const worker = await poolWorker(id);
    expect(worker).toMatchObject({
      state: "ready",
      healthy: true,
      url: `http://127.0.0.1:9/${id}`,
      models: [{ id: "vicuna-13b-v1.5", maxModelLen: 4096 }],
      load: { running: 1, waiting: 0, kv_cache_usage: 0.1, prefix_cache_hit_rate: 0.5, tokens_per_second: 30 },
      consecutive_failures: 0,
    });
    expect(worker?.last_heartbeat_age_ms).toBeGreaterThanOrEqual(0);
  });

  it.each([
    ["no token", null],
    ["a wrong token", "pool-test-token-wrong"],
    ["the admin key", ADMIN_KEY],
  ])("rejects %s with a 401 and changes nothing", async (_name, token) => {
    const id = uniqueId("unauth");
    const res = await postHeartbeat(beat(id), token);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { type: string; code: string } };
    expect(body.error).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
    expect(await poolWorker(id)).toBeUndefined();
  });

  it("answers 401 before looking at a bad body", async () => {
    expect((await postHeartbeat("{not json", "wrong")).status).toBe(401);
  });

  it.each([
    ["invalid JSON", "{not json", null],
    ["a missing field", { ...beat("x"), load: undefined }, "load"],
    ["a negative load", beat("x", { load: { running: -1, waiting: 0, kvCacheUsage: 0, prefixCacheHitRate: 0, tokensPerSecond: 0 } }), "load.running"],
    ["no models", beat("x", { models: [] }), "models"],
    ["a bad worker id", beat("bad id/with slash"), "workerId"],
    ["a state the agent may not claim", { ...beat("x"), state: "cordoned" }, "state"],
    ["a runtime of an unknown kind", { ...beat("x"), runtime: { kind: "tgi", version: "2.0" } }, "runtime.kind"],
    ["a runtime without a version", { ...beat("x"), runtime: { kind: "vllm" } }, "runtime.version"],
  ])("rejects %s with a 400 in the OpenAI shape", async (_name, body, param) => {
    const res = await postHeartbeat(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { type: string; param: string | null } };
    expect(json.error.type).toBe("invalid_request_error");
    expect(json.error.param).toBe(param);
  });

  it("shows what each worker runs: vLLM with its version, the simulator, or unknown", async () => {
    const gpu = uniqueId("gpu");
    const sim = uniqueId("sim");
    const old = uniqueId("old");
    expect((await postHeartbeat(beat(gpu, { runtime: { kind: "vllm", version: "0.18.1" } }))).status).toBe(200);
    expect((await postHeartbeat(beat(sim, { runtime: { kind: "simulator", version: "altiplano-vllm-simulator-0.1.0" } }))).status).toBe(200);
    expect((await postHeartbeat(beat(old))).status).toBe(200);
    expect((await poolWorker(gpu))?.runtime).toEqual({ kind: "vllm", version: "0.18.1" });
    expect((await poolWorker(sim))?.runtime).toEqual({ kind: "simulator", version: "altiplano-vllm-simulator-0.1.0" });
    expect((await poolWorker(old))?.runtime).toEqual({ kind: "unknown", version: null });
    // The label `npm run pool` (and the dashboard) prints for each.
    const labels = await Promise.all([gpu, sim, old].map(async (id) => runtimeLabel((await poolWorker(id))!.runtime)));
    expect(labels).toEqual(["vLLM 0.18.1", "simulator", "unknown"]);
  });

  it("rejects an oversized body with a 413", async () => {
    const res = await postHeartbeat(JSON.stringify({ ...beat("big"), padding: "x".repeat(20_000) }));
    expect(res.status).toBe(413);
  });

  it("a draining agent is excluded at once", async () => {
    const id = uniqueId("agent-drain");
    await postHeartbeat(beat(id));
    const res = await postHeartbeat(beat(id, { state: "draining" }));
    expect(await res.json()).toMatchObject({ state: "draining" });
    expect((await poolWorker(id))?.state).toBe("draining");
  });

  it("vLLM reporting unhealthy makes the worker unhealthy", async () => {
    const id = uniqueId("sick");
    const res = await postHeartbeat(beat(id, { healthy: false }));
    expect(await res.json()).toMatchObject({ state: "unhealthy" });
  });
});

describe("admin pool routes", () => {
  it("drain, cordon and uncordon a worker, and the agent is told on its next beat", async () => {
    const id = uniqueId("ops");
    await postHeartbeat(beat(id));

    const drained = await admin("POST", `/admin/pool/workers/${id}/drain`);
    expect(drained.status).toBe(200);
    expect(AdminPoolWorker.parse(await drained.json())).toMatchObject({ id, state: "draining", admin_state: "draining" });
    expect(await (await postHeartbeat(beat(id))).json()).toMatchObject({ state: "draining" });

    const uncordoned = await admin("POST", `/admin/pool/workers/${id}/uncordon`);
    expect(AdminPoolWorker.parse(await uncordoned.json()).state).toBe("ready");

    const cordoned = await admin("POST", `/admin/pool/workers/${id}/cordon`);
    expect(AdminPoolWorker.parse(await cordoned.json()).state).toBe("cordoned");
    expect((await poolWorker(id))?.state).toBe("cordoned");
  });

  it("removes a worker; its next heartbeat joins it again", async () => {
    const id = uniqueId("rm");
    await postHeartbeat(beat(id));
    const res = await admin("DELETE", `/admin/pool/workers/${id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ object: "pool.worker", id, deleted: true });
    expect(await poolWorker(id)).toBeUndefined();
    await postHeartbeat(beat(id));
    expect((await poolWorker(id))?.state).toBe("ready");
  });

  it.each([
    ["POST", "/admin/pool/workers/no-such-worker/drain"],
    ["POST", "/admin/pool/workers/no-such-worker/cordon"],
    ["DELETE", "/admin/pool/workers/no-such-worker"],
    ["POST", "/admin/pool/workers/no-such-worker/explode"],
  ])("%s %s is a 404", async (method, path) => {
    const res = await admin(method, path);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
  });

  it("lists the desired replicas per model", async () => {
    const res = await admin("GET", "/admin/pool");
    const pool = AdminPool.parse(await res.json());
    const vicuna = pool.models.find((model) => model.model === "vicuna-13b-v1.5");
    expect(vicuna?.desired_replicas).toBeGreaterThanOrEqual(1);
    expect(pool.heartbeat_interval_ms).toBe(1000);
  });

  it("needs a key: none and the pool token are 401", async () => {
    expect((await admin("GET", "/admin/pool", null)).status).toBe(401);
    expect((await admin("GET", "/admin/pool", POOL_TOKEN)).status).toBe(401);
    expect((await admin("POST", "/admin/pool/workers/x/drain", POOL_TOKEN)).status).toBe(401);
  });

  it("needs the admin role: a user key is 403", async () => {
    const { plaintext } = await createApiKey(env.DB, { name: "pool-test-user", role: "user" });
    const res = await admin("GET", "/admin/pool", plaintext);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("permission_error");
    const id = uniqueId("guarded");
    await postHeartbeat(beat(id));
    expect((await admin("POST", `/admin/pool/workers/${id}/drain`, plaintext)).status).toBe(403);
    expect((await poolWorker(id))?.state).toBe("ready");
  });
});
