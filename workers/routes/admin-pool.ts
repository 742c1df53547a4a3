/**
 * Operator controls over the GPU pool (admin role): `GET /admin/pool` lists workers, their state,
 * load, last heartbeat, failures and models, plus the desired replicas per model;
 * `POST /admin/pool/workers/{id}/drain|cordon|uncordon` and `DELETE /admin/pool/workers/{id}`.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { adminRuntime, type AdminPool, type AdminPoolModel, type AdminPoolWorker } from "../../wire/pool-admin.js";
import type { AppEnv } from "../app-env.js";
import { authenticate, requireRole } from "../auth/middleware.js";
import { notFound } from "../errors.js";
import { poolStub, type PoolWorker } from "../pool/pool-do.js";
import type { ModelReplicas } from "../pool/replicas.js";

function workerJson(worker: PoolWorker, now: number): AdminPoolWorker {
  return {
    object: "pool.worker",
    id: worker.id,
    url: worker.url,
    state: worker.state,
    healthy: worker.healthy,
    agent_state: worker.agentState,
    admin_state: worker.adminState,
    models: worker.models,
    runtime: adminRuntime(worker.runtime),
    load: {
      running: worker.load.running,
      waiting: worker.load.waiting,
      kv_cache_usage: worker.load.kvCacheUsage,
      prefix_cache_hit_rate: worker.load.prefixCacheHitRate,
      tokens_per_second: worker.load.tokensPerSecond,
    },
    joined_at: worker.joinedAt,
    last_heartbeat_at: worker.lastHeartbeatAt,
    last_heartbeat_age_ms: Math.max(0, now - worker.lastHeartbeatAt),
    consecutive_failures: worker.consecutiveFailures,
    total_failures: worker.totalFailures,
    cooldown_until: worker.cooldownUntil,
  };
}

/** One model's replica recommendation as the admin API shows it. */
export function modelJson(replicas: ModelReplicas): AdminPoolModel {
  return {
    model: replicas.model,
    ready_workers: replicas.readyWorkers,
    live_workers: replicas.liveWorkers,
    running: replicas.running,
    waiting: replicas.waiting,
    kv_cache_usage: replicas.kvCacheUsage,
    desired_replicas: replicas.desiredReplicas,
  };
}

function unknownWorker(id: string) {
  return notFound(`No worker with id '${id}' in the pool.`, "worker_not_found");
}

/** Authenticates unless the app already did (it mounts `authenticate` on /admin/*), so the key is looked up once. */
const authenticateOnce = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get("caller") !== undefined) return next();
  return authenticate(c, next);
});

const ACTIONS = ["drain", "cordon", "uncordon"] as const;
type Action = (typeof ACTIONS)[number];

function isAction(value: string): value is Action {
  return (ACTIONS as readonly string[]).includes(value);
}

export const adminPoolRoutes = new Hono<AppEnv>()
  .use(authenticateOnce, requireRole("admin"))
  .get("/", async (c) => {
    const snapshot = await poolStub(c.env).snapshot();
    const body: AdminPool = {
      object: "pool",
      taken_at: snapshot.takenAt,
      heartbeat_interval_ms: snapshot.heartbeatIntervalMs,
      workers: snapshot.workers.map((worker) => workerJson(worker, snapshot.takenAt)),
      models: snapshot.replicas.map(modelJson),
    };
    return c.json(body);
  })
  .post("/workers/:id/:action", async (c) => {
    const { id, action } = c.req.param();
    if (!isAction(action)) throw notFound(`Unknown pool action '${action}'; use drain, cordon or uncordon.`, "unknown_route");
    const stub = poolStub(c.env);
    const worker = await (action === "drain" ? stub.drain(id) : action === "cordon" ? stub.cordon(id) : stub.uncordon(id));
    if (!worker) throw unknownWorker(id);
    return c.json(workerJson(worker, Date.now()));
  })
  .delete("/workers/:id", async (c) => {
    const id = c.req.param("id");
    if (!(await poolStub(c.env).remove(id))) throw unknownWorker(id);
    return c.json({ object: "pool.worker" as const, id, deleted: true as const });
  });
