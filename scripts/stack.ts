/**
 * Starts the whole platform locally: the gateway in workerd (local D1 with the real migrations,
 * local Durable Objects, wrangler.toml's bindings) and GPU workers, each a vLLM simulator with an
 * agent beside it that joins the gateway's pool by heartbeat, as on a real GPU box. Used by
 * `npm start` and by the end-to-end tests, so both run exactly the same stack. Everything is on
 * 127.0.0.1. The workers run inside this process (the default: tests reach into their
 * simulators), or each as its own `npm run worker` process (`workerProcesses`, as `npm start` runs
 * them: one to kill is one GPU box gone).
 *
 * Two runners for the same Worker and state: Miniflare's API straight into workerd (the default:
 * no dev proxy, which alone costs a bare Worker three quarters of its throughput,
 * bench/results/overhead.md) or `wrangler dev`, which reloads on file changes (`runtime: "wrangler"`, ALTIPLANO_RUNTIME=wrangler).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { z } from "zod";
import { startAgent, type RunningAgent } from "../gpu-backend/agent/agent.js";
import { startSimulator } from "../gpu-backend/sim/server.js";
import { hashString } from "../gpu-backend/sim/random.js";
import type { SimConfig } from "../gpu-backend/sim/config.js";
import { AdminPool } from "../wire/pool-admin.js";
import { startGatewayMiniflare } from "./miniflare-runner.js";
import { startWorkerProcess, type WorkerProcess } from "./worker-process.js";
import { applyMigrations, executeLocalSql, freePort, startGatewayWranglerDev, type RunningGateway } from "./wrangler-cli.js";

export { applyMigrations, freePort } from "./wrangler-cli.js";

export type GatewayRuntime = "miniflare" | "wrangler";

/** The model wrangler.toml serves first; stacks that name no models run workers for it. */
export const DEFAULT_MODEL_ID = "vicuna-13b-v1.5";
const CreatedKeyBody = z.object({ key: z.string().min(1) });

export type RunningSim = Awaited<ReturnType<typeof startSimulator>>;

/** One simulated GPU box: the simulator and the agent that registers it. */
export interface LocalWorker {
  id: string;
  /** The model its simulator serves. */
  model: string;
  sim: RunningSim;
  agent: RunningAgent;
  /** Stops agent and simulator at once, as a machine that dies. */
  kill(): Promise<void>;
}

export interface StackOptions {
  /** Number of simulated GPU workers per pool model. */
  sims?: number;
  /** Pool models the simulated workers serve (each gets `sims` workers); default the first MODELS entry of wrangler.toml. */
  models?: readonly string[];
  /** Simulator settings applied to every worker (reply mode, fast, latencies…). */
  sim?: Partial<SimConfig>;
  /** Agent heartbeat interval; the pool's POOL_HEARTBEAT_INTERVAL_MS is set to match. */
  heartbeatIntervalMs?: number;
  /** Where local D1 / Durable Object state lives; a fresh temp dir when omitted (and removed on stop). */
  stateDir?: string;
  /** Gateway port; a free one when omitted. */
  port?: number;
  /** Extra gateway vars (override wrangler.toml), e.g. limits or timeouts. */
  vars?: Record<string, string>;
  /** Admin key to configure; random when omitted. */
  adminKey?: string;
  /** Echo the runtime's output. */
  verbose?: boolean;
  /** Which runner starts the gateway; default ALTIPLANO_RUNTIME, else miniflare. */
  runtime?: GatewayRuntime;
  /**
   * Public demo mode: anonymous visitors of the web page chat as end users of a bot key made for
   * them (PUBLIC_DEMO_KEY_ID). Off by default.
   */
  publicDemo?: boolean;
  /** Signs the web app's cookies; random per stack when omitted (sessions then end with it). */
  sessionSecret?: string;
  /** Give each pool model's simulators their own random seed (default: all share the simulator's). */
  seedPerModel?: boolean;
  /**
   * Run each GPU worker as its own `npm run worker` process (`npm start` does) instead of inside
   * this process (the default, which tests that reach into a simulator use).
   */
  workerProcesses?: boolean;
  /** The pool token agents must present; random when omitted. */
  poolToken?: string;
  /** Each line a worker process logs (its agent's problems and state changes). */
  onWorkerOutput?: (workerId: string, line: string) => void;
}

export interface Stack {
  url: string;
  adminKey: string;
  /** A ready key with role `user`. */
  userKey: string;
  /** Simulators of the workers started with the stack (in order: sim-1, sim-2, …). */
  sims: RunningSim[];
  /** Every in-process worker started so far, also those added later. */
  workers: LocalWorker[];
  /** Every worker process started so far (with `workerProcesses`), also those added later and those that died. */
  processes: WorkerProcess[];
  /** The pool token agents present. */
  poolToken: string;
  /** Starts one more simulator + agent; resolves once the agent runs (not yet once the pool lists it). */
  addWorker(id: string, sim?: Partial<SimConfig>): Promise<LocalWorker>;
  /** Starts one more worker process; resolves once the pool has accepted its first heartbeat. */
  addWorkerProcess(id: string, sim?: Partial<SimConfig>): Promise<WorkerProcess>;
  /**
   * Signals every child process group now, synchronously (worker processes, and `wrangler dev`):
   * for a signal handler that may not live to see `stop()` finish.
   */
  signalChildren(signal: NodeJS.Signals): void;
  /** The pool as GET /admin/pool shows it. */
  pool(): Promise<AdminPool>;
  /** Waits until the pool lists these workers as ready. */
  waitForReady(ids: readonly string[], timeoutMs?: number): Promise<void>;
  /** Creates a key through the admin API and returns its plaintext. */
  createKey(role: "admin" | "user" | "bot", name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The key public demo visitors act through on a local stack. */
export const PUBLIC_DEMO_KEY_ID = "key_public_demo";

/**
 * Makes the public demo's bot key in the local database before the gateway starts (its id is a
 * gateway var, so it must exist first). Its plaintext is random and thrown away: visitors act
 * through it by cookie, nobody by Bearer.
 */
async function seedPublicDemoKey(stateDir: string, verbose: boolean): Promise<void> {
  const hash = createHash("sha256").update(`sk-alt-${randomBytes(24).toString("base64url")}`).digest("hex");
  await executeLocalSql(
    stateDir,
    `INSERT OR IGNORE INTO api_keys (id, name, role, key_hash, key_prefix, limits, created_at, revoked_at)
     VALUES ('${PUBLIC_DEMO_KEY_ID}', 'public demo visitors', 'bot', '${hash}', 'sk-alt-demo', NULL, ${Date.now()}, NULL)`,
    verbose,
  );
}

/** The runner ALTIPLANO_RUNTIME asks for; Miniflare when unset. */
export function defaultRuntime(): GatewayRuntime {
  const fromEnv = process.env.ALTIPLANO_RUNTIME;
  if (fromEnv === undefined || fromEnv === "") return "miniflare";
  if (fromEnv === "miniflare" || fromEnv === "wrangler") return fromEnv;
  throw new Error(`ALTIPLANO_RUNTIME must be miniflare or wrangler, not '${fromEnv}'`);
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const ownsStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? (await mkdtemp(path.join(tmpdir(), "altiplano-stack-")));
  await mkdir(stateDir, { recursive: true });
  const workers: LocalWorker[] = [];
  const processes: WorkerProcess[] = [];
  let gateway: RunningGateway | null = null;
  const stop = async (): Promise<void> => {
    await Promise.all([...workers.map((w) => w.kill()), ...processes.map((p) => p.stop())]);
    await gateway?.stop().catch(() => undefined);
    if (ownsStateDir) await rm(stateDir, { recursive: true, force: true });
  };

  try {
    await applyMigrations(stateDir, options.verbose ?? false);
    const adminKey = options.adminKey ?? `sk-admin-${randomBytes(18).toString("base64url")}`;
    const poolToken = options.poolToken ?? `pool-${randomBytes(18).toString("base64url")}`;
    const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1_000;
    const port = options.port ?? (await freePort());
    const vars: Record<string, string> = {
      ADMIN_API_KEY: adminKey,
      POOL_TOKEN: poolToken,
      POOL_HEARTBEAT_INTERVAL_MS: String(heartbeatIntervalMs),
      SESSION_SECRET: options.sessionSecret ?? randomBytes(32).toString("base64url"),
      ...options.vars,
    };
    if (options.publicDemo === true) {
      await seedPublicDemoKey(stateDir, options.verbose ?? false);
      vars.PUBLIC_DEMO_KEY_ID ??= PUBLIC_DEMO_KEY_ID;
    }
    const runtime = options.runtime ?? defaultRuntime();
    const verbose = options.verbose ?? false;
    gateway =
      runtime === "miniflare"
        ? await startGatewayMiniflare({ port, stateDir, vars, verbose, skipMigrations: true })
        : await startGatewayWranglerDev({ port, stateDir, vars, verbose });
    const url = gateway.url;

    const adminGet = async (route: string): Promise<unknown> => {
      const res = await fetch(`${url}${route}`, { headers: { authorization: `Bearer ${adminKey}` } });
      if (!res.ok) throw new Error(`GET ${route} failed: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const pool = async (): Promise<AdminPool> => AdminPool.parse(await adminGet("/admin/pool"));
    const waitForReady = async (ids: readonly string[], timeoutMs = 30_000): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ready = new Set((await pool()).workers.filter((w) => w.state === "ready").map((w) => w.id));
        if (ids.every((id) => ready.has(id))) return;
        if (Date.now() > deadline) throw new Error(`workers ${ids.join(", ")} did not become ready within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const addWorker = async (id: string, sim: Partial<SimConfig> = {}): Promise<LocalWorker> => {
      const model = sim.model ?? options.sim?.model ?? DEFAULT_MODEL_ID;
      const simulator = await startSimulator({ workerId: id, ...options.sim, ...sim, model });
      const agent = startAgent(
        {
          gatewayUrl: url,
          vllmUrl: simulator.url,
          workerId: id,
          poolToken,
          pollIntervalMs: heartbeatIntervalMs,
          drainSettleMs: Math.min(3_000, 2 * heartbeatIntervalMs),
        },
        { log: options.verbose ? (line) => console.log(`[agent ${id}] ${line}`) : () => undefined },
      );
      const worker: LocalWorker = {
        id,
        model,
        sim: simulator,
        agent,
        kill: async () => {
          await agent.stop().catch(() => undefined);
          await simulator.stop().catch(() => undefined);
        },
      };
      workers.push(worker);
      return worker;
    };
    const addWorkerProcess = async (id: string, sim: Partial<SimConfig> = {}): Promise<WorkerProcess> => {
      const model = sim.model ?? options.sim?.model ?? DEFAULT_MODEL_ID;
      const worker = await startWorkerProcess({
        gatewayUrl: url,
        poolToken,
        id,
        model,
        heartbeatIntervalMs,
        sim: { ...options.sim, ...sim },
        onOutput: (line) => options.onWorkerOutput?.(id, line),
      });
      processes.push(worker);
      return worker;
    };

    const simCount = options.sims ?? 2;
    const initial: { id: string; sim: Partial<SimConfig> }[] = [];
    for (const model of options.models ?? [DEFAULT_MODEL_ID]) {
      // Each model's simulators its own lorem seed, when asked: two models answering the same
      // question (the arena, an evaluation) should not write the same words.
      const seed = options.seedPerModel ? { seed: hashString(model) } : {};
      for (let i = 0; i < simCount; i++) initial.push({ id: `sim-${initial.length + 1}`, sim: { model, ...seed } });
    }
    if (options.workerProcesses) {
      // Side by side: each process spends seconds compiling before it listens.
      const started = await Promise.allSettled(initial.map((w) => addWorkerProcess(w.id, w.sim)));
      const failed = started.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
      // In id order, whichever joined first.
      processes.sort((a, b) => initial.findIndex((w) => w.id === a.id) - initial.findIndex((w) => w.id === b.id));
    } else {
      for (const w of initial) await addWorker(w.id, w.sim);
    }
    await waitForReady([...workers.map((w) => w.id), ...processes.map((p) => p.id)]);

    const createKey = async (role: "admin" | "user" | "bot", name: string): Promise<string> => {
      const res = await fetch(`${url}/admin/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ name, role }),
      });
      if (res.status !== 201) throw new Error(`creating a ${role} key failed: ${res.status} ${await res.text()}`);
      return CreatedKeyBody.parse(await res.json()).key;
    };
    const userKey = await createKey("user", "local user");
    return {
      url,
      adminKey,
      userKey,
      poolToken,
      sims: workers.map((w) => w.sim),
      workers,
      processes,
      addWorker,
      addWorkerProcess,
      signalChildren: (signal) => {
        for (const p of processes) p.signal(signal);
        gateway?.signal?.(signal);
      },
      pool,
      waitForReady,
      createKey,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
