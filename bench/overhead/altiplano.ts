/**
 * The full Altiplano gateway for benchmarks, in either local runtime: workerd through Miniflare
 * directly (scripts/miniflare-runner.ts) or `wrangler dev` (scripts/stack.ts, as `npm start`).
 * GPU workers are simulators started by the caller; an agent beside each joins it to the pool by
 * heartbeat, exactly as on a GPU box. Ready when every worker is `ready` and keys exist.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { z } from "zod";
import { startAgent, type RunningAgent } from "../../gpu-backend/agent/agent.js";
import { startGatewayMiniflare } from "../../scripts/miniflare-runner.js";
import { startStack } from "../../scripts/stack.js";
import { AdminPool } from "../../wire/pool-admin.js";

export type GatewayRuntime = "miniflare" | "wrangler-dev";

const HEARTBEAT_INTERVAL_MS = 1_000;
// The pool's interval only sets how late a beat may be before a worker counts as unhealthy (1.5×)
// or gone (3×); agents still beat every HEARTBEAT_INTERVAL_MS. On a saturated 2-core machine a
// beat can be late by seconds, and a worker dropping out of the pool mid-benchmark measures nothing.
const POOL_HEARTBEAT_TOLERANCE_MS = 5_000;
const POOL_READY_TIMEOUT_MS = 30_000;
const CreatedKey = z.object({ key: z.string().min(1) });

/** Limits far above any bench load, so the limiter still runs (one DO call) but never refuses. */
export const GENEROUS_LIMIT_VARS: Record<string, string> = {
  LIMIT_REQUESTS_PER_MINUTE: "1000000000",
  LIMIT_TOKENS_PER_MINUTE: "1000000000000",
  LIMIT_MAX_CONCURRENT: "1000000",
  LIMIT_TOKENS_PER_DAY: "1000000000000",
  END_USER_LIMIT_REQUESTS_PER_MINUTE: "1000000000",
  END_USER_LIMIT_TOKENS_PER_MINUTE: "1000000000000",
  END_USER_LIMIT_MAX_CONCURRENT: "1000000",
  END_USER_LIMIT_TOKENS_PER_DAY: "1000000000000",
};

export interface AltiplanoOptions {
  runtime: GatewayRuntime;
  /** Simulated GPU workers already listening; one agent is started per entry. */
  workers: readonly { id: string; url: string }[];
  /** Extra gateway vars (on top of GENEROUS_LIMIT_VARS). */
  vars?: Record<string, string>;
  /** Miniflare only: bundle this entry instead of workers/index.ts (e.g. the counting wrapper). */
  entry?: string;
  /** Miniflare only: open workerd's V8 inspector on this loopback port (bench/profile.ts). */
  inspectorPort?: number;
}

export interface Altiplano {
  runtime: GatewayRuntime;
  url: string;
  adminKey: string;
  /** A key with role `user`. */
  userKey: string;
  /** A key with role `bot` (requests may name an end user). */
  botKey: string;
  stop(): Promise<void>;
}

/** Creates an API key through the admin API; returns its plaintext. */
export async function createKey(url: string, adminKey: string, role: "user" | "bot"): Promise<string> {
  const res = await fetch(`${url}/admin/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name: `bench ${role}`, role }),
  });
  if (res.status !== 201) throw new Error(`creating a ${role} key failed: ${res.status} ${await res.text()}`);
  return CreatedKey.parse(await res.json()).key;
}

async function waitForPool(url: string, adminKey: string, ids: readonly string[]): Promise<void> {
  const deadline = Date.now() + POOL_READY_TIMEOUT_MS;
  for (;;) {
    const res = await fetch(`${url}/admin/pool`, { headers: { authorization: `Bearer ${adminKey}` } });
    if (res.ok) {
      const ready = new Set(AdminPool.parse(await res.json()).workers.filter((w) => w.state === "ready").map((w) => w.id));
      if (ids.every((id) => ready.has(id))) return;
    } else await res.arrayBuffer();
    if (Date.now() > deadline) throw new Error(`workers ${ids.join(", ")} not ready in the pool within ${POOL_READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the gateway in the chosen runtime with its pool of the given workers; resolves once usable. */
export async function startAltiplano(o: AltiplanoOptions): Promise<Altiplano> {
  const agents: RunningAgent[] = [];
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(agents.map((a) => a.stop().catch(() => undefined)));
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const vars = { ...GENEROUS_LIMIT_VARS, POOL_HEARTBEAT_INTERVAL_MS: String(POOL_HEARTBEAT_TOLERANCE_MS), ...o.vars };
    let url: string;
    let adminKey: string;
    let poolToken: string;
    if (o.runtime === "miniflare") {
      const stateDir = await mkdtemp(path.join(tmpdir(), "altiplano-bench-mf-"));
      stops.push(() => rm(stateDir, { recursive: true, force: true }));
      adminKey = `sk-admin-${randomBytes(18).toString("base64url")}`;
      poolToken = `pool-${randomBytes(18).toString("base64url")}`;
      const gateway = await startGatewayMiniflare({ stateDir, entry: o.entry, inspectorPort: o.inspectorPort, vars: { ...vars, ADMIN_API_KEY: adminKey, POOL_TOKEN: poolToken } });
      stops.push(gateway.stop);
      url = gateway.url;
    } else {
      const stack = await startStack({ sims: 0, vars, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS });
      stops.push(stack.stop);
      url = stack.url;
      adminKey = stack.adminKey;
      poolToken = stack.poolToken;
    }
    for (const w of o.workers) {
      agents.push(
        startAgent(
          { gatewayUrl: url, vllmUrl: w.url, workerId: w.id, poolToken, pollIntervalMs: HEARTBEAT_INTERVAL_MS, drainSettleMs: 0 },
          { log: () => undefined },
        ),
      );
    }
    await waitForPool(url, adminKey, o.workers.map((w) => w.id));
    const [userKey, botKey] = [await createKey(url, adminKey, "user"), await createKey(url, adminKey, "bot")];
    return { runtime: o.runtime, url, adminKey, userKey, botKey, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
