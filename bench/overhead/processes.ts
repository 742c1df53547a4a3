/**
 * Child processes for the benchmarks: each in its own process group (so stopping it also ends
 * what it started, e.g. wrangler's workerd), its output kept for error messages, and helpers to
 * wait for a line or for an HTTP endpoint.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const WRANGLER_BIN = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const STOP_GRACE_MS = 5_000;

/** A started child with its recent output. */
export interface Child {
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Spawns `node <args>` in its own process group; stdout/stderr are collected (last 20 kB). */
export function spawnNode(args: readonly string[], o: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Child {
  const child = spawn(process.execPath, args, {
    cwd: o.cwd ?? ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...o.env },
  });
  let out = "";
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return {
    process: child,
    output: () => out,
    stop: () => stopGroup(child),
  };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<boolean>((resolve) => child.once("exit", () => resolve(true)));
  signalGroup(child, "SIGTERM");
  const done = await Promise.race([exited, new Promise<boolean>((r) => setTimeout(() => r(false), STOP_GRACE_MS))]);
  if (!done) signalGroup(child, "SIGKILL");
}

/** Resolves with the first match of `pattern` in the child's stdout; rejects if it exits or times out. */
export function waitForLine(child: Child, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => finish(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${child.output()}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      seen += d.toString();
      const m = seen.match(pattern);
      if (m) finish(null, m);
    };
    const onExit = (code: number | null): void => finish(new Error(`process exited (${code}) before printing ${pattern}:\n${child.output()}`));
    const finish = (error: Error | null, m?: RegExpMatchArray): void => {
      clearTimeout(timer);
      child.process.stdout?.off("data", onData);
      child.process.off("exit", onExit);
      if (error) reject(error);
      else resolve(m!);
    };
    child.process.stdout?.on("data", onData);
    child.process.once("exit", onExit);
  });
}

/** Polls `url` until it answers 2xx; rejects when the child exits or after `timeoutMs`. */
export async function waitForHttp(url: string, o: { child?: Child; timeoutMs: number }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  while (Date.now() < deadline) {
    if (o.child && (o.child.process.exitCode !== null || o.child.process.signalCode !== null)) {
      throw new Error(`process exited before ${url} answered:\n${o.child.output()}`);
    }
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${o.timeoutMs} ms${o.child ? `:\n${o.child.output()}` : ""}`);
}

/** Environment for wrangler: no telemetry, no banner update check, no request.cf download. */
export const WRANGLER_ENV: NodeJS.ProcessEnv = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};
