import { env } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { Heartbeat } from "../../wire/heartbeat.js";
import type { AppEnv } from "../../workers/app-env.js";
import { toGatewayError } from "../../workers/errors.js";
import { IsolateSnapshotCache } from "../../workers/pool/snapshot-cache.js";
import { DEFAULT_ROUTING_OPTIONS, routeRequest } from "../../workers/pool/routing.js";
import { poolRoutes } from "../../workers/routes/pool.js";

function beat(workerId: string, url = `https://${workerId}.gpu.example.com`): Heartbeat {
  return {
    workerId,
    url,
    models: [{ id: "vicuna-13b-v1.5", maxModelLen: 4096 }],
    state: "ready",
    healthy: true,
    load: { running: 0, waiting: 0, kvCacheUsage: 0, prefixCacheHitRate: 0, tokensPerSecond: 0 },
  };
}

describe("pool snapshot → routing eligibility", () => {
  it("drained, cordoned, unhealthy, gone and cooling-down workers get no new requests", async () => {
    const stub = env.POOL.get(env.POOL.idFromName(`eligibility-${crypto.randomUUID()}`));
    const now = Date.now();
    for (const id of ["ok", "drained", "cordoned", "sick", "cooling"]) await stub.heartbeat(beat(id), now);
    await stub.heartbeat(beat("dead"), now - 10_000);
    await stub.heartbeat({ ...beat("sick"), healthy: false }, now);
    await stub.drain("drained", now);
    await stub.cordon("cordoned", now);
    for (let i = 0; i < 3; i++) await stub.reportFailure("cooling", now);

    const cache = new IsolateSnapshotCache(async () => stub.snapshot(now));
    const views = await cache.getWorkerViews(env, now);
    expect(Object.fromEntries(views.map((v) => [v.id, v.state]))).toEqual({
      ok: "ready",
      drained: "draining",
      cordoned: "cordoned",
      sick: "unhealthy",
      cooling: "ready",
      dead: "gone",
    });
    for (const conversationId of ["c1", "c2", "c3", "c4", "c5", "c6"]) {
      const decision = routeRequest(views, { model: "vicuna-13b-v1.5", conversationId, prefixHash: null }, {
        options: DEFAULT_ROUTING_OPTIONS,
        now,
        random: () => 0.5,
      });
      expect(decision.kind).toBe("route");
      if (decision.kind === "route") expect(decision.candidates.map((c) => c.id)).toEqual(["ok"]);
    }
  });
});

describe("worker URL allow-list (POOL_ALLOWED_URLS)", () => {
  // The heartbeat route under the allow-list, with the app's error mapping.
  const app = new Hono<AppEnv>()
    .route("/pool", poolRoutes)
    .onError((err, c) => {
      const gatewayError = toGatewayError(err);
      return c.json(gatewayError.toBody(), gatewayError.status);
    });
  const restrictedEnv = { ...env, POOL_ALLOWED_URLS: "https://*.pool.example.com, http://127.0.0.1:" };

  function send(heartbeat: Heartbeat) {
    return app.request(
      "/pool/heartbeat",
      { method: "POST", headers: { authorization: "Bearer pool-test-token" }, body: JSON.stringify(heartbeat) },
      restrictedEnv,
    );
  }

  it.each([
    ["https://gpu-1.pool.example.com", 200],
    ["http://127.0.0.1:8001", 200],
    ["https://gpu-1.elsewhere.example.com", 403],
    ["https://evil.example/?.pool.example.com", 403],
  ])("%s → %i", async (url, status) => {
    const id = `allow-${crypto.randomUUID().slice(0, 8)}`;
    const res = await send(beat(id, url));
    expect(res.status).toBe(status);
    const snapshot = await env.POOL.get(env.POOL.idFromName("default")).snapshot();
    expect(snapshot.workers.some((w) => w.id === id)).toBe(status === 200);
    if (status === 403) {
      expect(await res.json()).toMatchObject({ error: { type: "permission_error", code: "worker_url_not_allowed" } });
    }
  });
});
