/**
 * Running wrangler's CLI from our scripts: `wrangler d1 migrations apply` for local D1 and
 * `wrangler dev`, each in its own process group so it can be stopped with everything it started.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER_BIN = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

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

export function runWrangler(args: string[], options: { cwd: string; verbose: boolean }): ChildProcess {
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

export async function waitForExit(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
}

export function collectOutput(child: ChildProcess): () => string {
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  return () => out;
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
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

/** Runs SQL against the local database in `stateDir` with wrangler itself (before the gateway starts). */
export async function executeLocalSql(stateDir: string, sql: string, verbose = false): Promise<void> {
  const child = runWrangler(["d1", "execute", "altiplano", "--local", "--persist-to", stateDir, "--command", sql], { cwd: ROOT, verbose });
  const output = collectOutput(child);
  const code = await waitForExit(child);
  if (code !== 0) throw new Error(`wrangler d1 execute failed (${code}):\n${output()}`);
}

const GATEWAY_READY_TIMEOUT_MS = 90_000;

export interface RunningGateway {
  /** Base URL, e.g. http://127.0.0.1:8787. */
  url: string;
  stop(): Promise<void>;
  /** Signals the runtime's processes now, synchronously, when it runs as child processes. */
  signal?(signal: NodeJS.Signals): void;
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

/** Starts the gateway under `wrangler dev` (migrations already applied to stateDir). */
export async function startGatewayWranglerDev(options: {
  port: number;
  stateDir: string;
  vars: Record<string, string>;
  verbose: boolean;
}): Promise<RunningGateway> {
  const envFile = path.join(options.stateDir, "gateway.env");
  await writeFile(envFile, envFileText(options.vars), { mode: 0o600 });
  const child = runWrangler(
    [
      "dev",
      "--ip", "127.0.0.1",
      "--port", String(options.port),
      "--inspector-port", String(await freePort()),
      "--persist-to", options.stateDir,
      "--env-file", envFile,
      "--show-interactive-dev-session=false",
      "--log-level", options.verbose ? "info" : "warn",
    ],
    { cwd: ROOT, verbose: options.verbose },
  );
  const stop = async (): Promise<void> => {
    killGroup(child, "SIGTERM");
    const exited = await Promise.race([waitForExit(child).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
    if (!exited) killGroup(child, "SIGKILL");
  };
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitForGateway(url, child, collectOutput(child));
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop, signal: (signal) => killGroup(child, signal) };
}
