/**
 * Starts the whole platform locally: the gateway under `wrangler dev` (workerd, local D1 with the
 * real migrations, local Durable Objects) and GPU workers, each a vLLM simulator with an agent
 * beside it that joins the gateway's pool by heartbeat, as on a real GPU box. Used by `npm start`
 * and by the end-to-end tests, so both run exactly the same stack. Everything is on 127.0.0.1.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { startAgent, type RunningAgent } from "../gpu-backend/agent/agent.js";
import { startSimulator } from "../gpu-backend/sim/server.js";
import type { SimConfig } from "../gpu-backend/sim/config.js";
import { AdminPool } from "../wire/pool-admin.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER_BIN = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const GATEWAY_READY_TIMEOUT_MS = 90_000;
const MODEL_ID = "vicuna-13b-v1.5";
const CreatedKeyBody = z.object({ key: z.string().min(1) });

export type RunningSim = Awaited<ReturnType<typeof startSimulator>>;

/** One simulated GPU box: the simulator and the agent that registers it. */
export interface LocalWorker {
  id: string;
  sim: RunningSim;
  agent: RunningAgent;
  /** Stops agent and simulator at once, as a machine that dies. */
  kill(): Promise<void>;
}

export interface StackOptions {
  /** Number of simulated GPU workers. */
  sims?: number;
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
  /** Echo wrangler's output (for `npm start`). */
  verbose?: boolean;
}

export interface Stack {
  url: string;
  adminKey: string;
  /** A ready key with role `user`. */
  userKey: string;
  /** Simulators of the workers started with the stack (in order: sim-1, sim-2, …). */
  sims: RunningSim[];
  /** Every worker started so far, also those added later. */
  workers: LocalWorker[];
  /** The pool token agents present. */
  poolToken: string;
  /** Starts one more simulator + agent; resolves once the agent runs (not yet once the pool lists it). */
  addWorker(id: string, sim?: Partial<SimConfig>): Promise<LocalWorker>;
  /** The pool as GET /admin/pool shows it. */
  pool(): Promise<AdminPool>;
  /** Waits until the pool lists these workers as ready. */
  waitForReady(ids: readonly string[], timeoutMs?: number): Promise<void>;
  /** Creates a key through the admin API and returns its plaintext. */
  createKey(role: "admin" | "user" | "bot", name: string): Promise<string>;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A dotenv file; single quotes keep JSON values literal. */
function envFileText(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => {
      if (v.includes("'") || v.includes("\n")) throw new Error(`gateway var ${k} cannot contain a single quote or newline`);
      return `${k}='${v}'`;
    })
    .join("\n");
}

function runWrangler(args: string[], options: { cwd: string; verbose: boolean }): ChildProcess {
  return spawn(process.execPath, [WRANGLER_BIN, ...args], {
    cwd: options.cwd,
    // Its own process group, so stop() can end wrangler and the workerd it starts together.
    detached: true,
    stdio: ["ignore", options.verbose ? "inherit" : "pipe", options.verbose ? "inherit" : "pipe"],
    // No telemetry, no update check (the banner does one) and no fetch of the Request.cf object:
    // nothing leaves loopback.
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
}

async function waitForExit(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
}

function collectOutput(child: ChildProcess): () => string {
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  return () => out;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Applies the D1 migrations to the local database in `stateDir` with wrangler itself. */
export async function applyMigrations(stateDir: string, verbose = false): Promise<void> {
  const child = runWrangler(["d1", "migrations", "apply", "altiplano", "--local", "--persist-to", stateDir], { cwd: ROOT, verbose });
  const output = collectOutput(child);
  const code = await waitForExit(child);
  if (code !== 0) throw new Error(`wrangler d1 migrations apply failed (${code}):\n${output()}`);
}

async function waitForGateway(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + GATEWAY_READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output()}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gateway did not become ready within ${GATEWAY_READY_TIMEOUT_MS} ms:\n${output()}`);
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const ownsStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? (await mkdtemp(path.join(tmpdir(), "altiplano-stack-")));
  await mkdir(stateDir, { recursive: true });
  const workers: LocalWorker[] = [];
  let wrangler: ChildProcess | null = null;
  const stop = async (): Promise<void> => {
    await Promise.all(workers.map((w) => w.kill()));
    if (wrangler) {
      killGroup(wrangler, "SIGTERM");
      const exited = await Promise.race([waitForExit(wrangler).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
      if (!exited) killGroup(wrangler, "SIGKILL");
    }
    if (ownsStateDir) await rm(stateDir, { recursive: true, force: true });
  };

  try {
    await applyMigrations(stateDir, options.verbose ?? false);
    const adminKey = options.adminKey ?? `sk-admin-${randomBytes(18).toString("base64url")}`;
    const poolToken = `pool-${randomBytes(18).toString("base64url")}`;
    const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1_000;
    const port = options.port ?? (await freePort());
    const vars: Record<string, string> = {
      ADMIN_API_KEY: adminKey,
      POOL_TOKEN: poolToken,
      POOL_HEARTBEAT_INTERVAL_MS: String(heartbeatIntervalMs),
      ...options.vars,
    };
    const envFile = path.join(stateDir, "gateway.env");
    await writeFile(envFile, envFileText(vars), { mode: 0o600 });
    wrangler = runWrangler(
      [
        "dev",
        "--ip", "127.0.0.1",
        "--port", String(port),
        "--inspector-port", String(await freePort()),
        "--persist-to", stateDir,
        "--env-file", envFile,
        "--show-interactive-dev-session=false",
        "--log-level", options.verbose ? "info" : "warn",
      ],
      { cwd: ROOT, verbose: options.verbose ?? false },
    );
    const output = collectOutput(wrangler);
    const url = `http://127.0.0.1:${port}`;
    await waitForGateway(url, wrangler, output);

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
      const simulator = await startSimulator({ workerId: id, model: MODEL_ID, ...options.sim, ...sim });
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

    const simCount = options.sims ?? 2;
    for (let i = 0; i < simCount; i++) await addWorker(`sim-${i + 1}`);
    await waitForReady(workers.map((w) => w.id));

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
      addWorker,
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
