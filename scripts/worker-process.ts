/**
 * One GPU worker as its own process (`npm run worker`, gpu-backend/worker/main.ts), started and
 * watched by a supervisor (`npm start`, or a test). The worker runs in its own process group, so
 * a Ctrl-C in the terminal reaches only the supervisor, which decides how its workers stop; and
 * it stops by itself when the supervisor's end of its stdin closes, so a supervisor killed
 * outright does not leave workers heartbeating to nothing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { flagName } from "../gpu-backend/sim/config.js";
import type { SimConfig } from "../gpu-backend/sim/config.js";
import { killGroup } from "./wrangler-cli.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WORKER_MAIN = path.join(ROOT, "gpu-backend", "worker", "main.ts");
const JOINED_LINE = /^worker (\S+) joined \S+ serving (\S+)/m;
/** How long a worker may take from spawn to its first accepted heartbeat (tsx compiles on a busy machine). */
const JOIN_TIMEOUT_MS = 60_000;
/** After SIGTERM, how long a worker may drain before the supervisor kills it. */
export const WORKER_STOP_GRACE_MS = 5_000;

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `npm run worker` process. */
export interface WorkerProcess {
  id: string;
  model: string;
  pid: number;
  /** The simulator's base URL (what the pool lists for it). */
  url: string;
  /** Resolves when the process has exited, however. */
  exited: Promise<WorkerExit>;
  /** Sends a signal to the worker's process group now (SIGKILL: a GPU box that dies). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM (drain), then SIGKILL after WORKER_STOP_GRACE_MS; resolves once it has exited. */
  stop(): Promise<void>;
}

export interface WorkerProcessOptions {
  gatewayUrl: string;
  poolToken: string;
  id: string;
  model: string;
  heartbeatIntervalMs: number;
  /** Simulator settings, passed as its flags. */
  sim?: Partial<SimConfig>;
  /** Each line the worker writes on stderr (its agent's log). */
  onOutput?: (line: string) => void;
}

/** The simulator's settings as `npm run sim` flags. */
export function simFlags(sim: Partial<SimConfig>): string[] {
  return Object.entries(sim).flatMap(([key, value]) => (value === undefined ? [] : [`--${flagName(key)}=${String(value)}`]));
}

/** The command line that starts one worker (the pool token goes in the environment, not here). */
export function workerArgs(options: Omit<WorkerProcessOptions, "poolToken" | "onOutput">): string[] {
  const { model: _model, workerId: _workerId, ...sim } = options.sim ?? {};
  return [
    "--gateway", options.gatewayUrl,
    "--id", options.id,
    "--model", options.model,
    "--heartbeat-ms", String(options.heartbeatIntervalMs),
    "--stop-with-stdin",
    ...simFlags(sim),
  ];
}

function forEachLine(child: ChildProcess, stream: "stdout" | "stderr", onLine: (line: string) => void): void {
  let partial = "";
  child[stream]?.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  });
}

/** Starts a worker process; resolves once the pool has accepted its first heartbeat. */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER_MAIN, ...workerArgs(options)], {
    cwd: ROOT,
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, POOL_TOKEN: options.poolToken },
  });
  const exited = new Promise<WorkerExit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let stderrTail = "";
  forEachLine(child, "stderr", (line) => {
    stderrTail = (stderrTail + line + "\n").slice(-4_000);
    options.onOutput?.(line);
  });
  let stdout = "";
  forEachLine(child, "stdout", (line) => (stdout += line + "\n"));

  const stop = async (): Promise<void> => {
    killGroup(child, "SIGTERM");
    const done = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), WORKER_STOP_GRACE_MS))]);
    if (!done) killGroup(child, "SIGKILL");
    await exited;
  };

  const deadline = Date.now() + JOIN_TIMEOUT_MS;
  let joined: RegExpExecArray | null = null;
  while ((joined = JOINED_LINE.exec(stdout)) === null) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`worker ${options.id} exited before joining (${child.exitCode ?? child.signalCode}):\n${stderrTail}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`worker ${options.id} did not join within ${JOIN_TIMEOUT_MS} ms:\n${stderrTail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    id: options.id,
    model: options.model,
    pid: child.pid!,
    url: joined[2]!,
    exited,
    signal: (signal) => killGroup(child, signal),
    stop,
  };
}
