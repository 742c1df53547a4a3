/**
 * `npm start` stops like a service: however it is told to stop — SIGTERM to npm's pid, Ctrl-C
 * (SIGINT to the terminal's process group), SIGTERM to the start script itself — every process it
 * started (shell, script, workerd or wrangler dev, each GPU worker) is gone within seconds, the
 * port is free and the state directory's lock is released. Under both gateway runtimes.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { freePort } from "../../scripts/stack.js";
import { LOCK_FILE } from "../../scripts/state-lock.js";
import { waitFor } from "../support/wait.js";
import { npmStart, READY_LINE, type NpmStart } from "./npm-start.js";
import { descendants, isAlive, isListening, type ProcessInfo } from "./process-tree.js";

/** Generous for a loaded machine; a stop that hangs (an orphaned workerd) never gets there. */
const STOP_WITHIN_MS = 20_000;

type Target = "npm" | "terminal group" | "start script";

let running: { start: NpmStart; tree: ProcessInfo[]; stateDir: string } | null = null;

afterEach(async () => {
  if (running === null) return;
  // A failed case must not leave its stack behind.
  for (const p of [...running.tree].reverse()) if (isAlive(p.pid)) process.kill(p.pid, "SIGKILL");
  if (running.start.child.exitCode === null) running.start.child.kill("SIGKILL");
  await rm(running.stateDir, { recursive: true, force: true });
  running = null;
});

it.each<{ runtime: "miniflare" | "wrangler"; signal: NodeJS.Signals; target: Target }>([
  { runtime: "miniflare", signal: "SIGTERM", target: "npm" },
  { runtime: "miniflare", signal: "SIGINT", target: "terminal group" },
  { runtime: "miniflare", signal: "SIGTERM", target: "start script" },
  { runtime: "wrangler", signal: "SIGTERM", target: "npm" },
])("$runtime: $signal to the $target stops every child, frees the port and the lock", async ({ runtime, signal, target }) => {
  const stateDir = await mkdtemp(path.join(tmpdir(), "altiplano-signals-"));
  const port = await freePort();
  const start = npmStart({ stateDir, port, env: { ALTIPLANO_RUNTIME: runtime }, ownGroup: target === "terminal group" });
  running = { start, tree: [], stateDir };
  await start.waitForOutput(READY_LINE);

  const tree = descendants(start.child.pid!);
  running.tree = tree;
  const workerPids = [...start.output().matchAll(/sim-\d+ \([^,]+, pid (\d+)\)/g)].map((m) => Number(m[1]));
  expect(workerPids).toHaveLength(2);
  // The tree holds the gateway's runtime and both workers.
  expect(tree.some((p) => p.command.includes("workerd"))).toBe(true);
  for (const pid of workerPids) expect(tree.map((p) => p.pid)).toContain(pid);
  expect(await isListening(port)).toBe(true);
  const lock = path.join(stateDir, LOCK_FILE);
  const scriptPid = Number((await readFile(lock, "utf8")).trim());
  expect(tree.map((p) => p.pid)).toContain(scriptPid);

  if (target === "npm") process.kill(start.child.pid!, signal);
  else if (target === "terminal group") process.kill(-start.child.pid!, signal);
  else process.kill(scriptPid, signal);

  await waitFor(() => (tree.every((p) => !isAlive(p.pid)) ? true : undefined), STOP_WITHIN_MS, "every child gone").catch((err: unknown) => {
    const left = tree.filter((p) => isAlive(p.pid)).map((p) => `${p.pid} ${p.command}`);
    throw new Error(`${String(err)}; still running:\n${left.join("\n")}\n${start.output()}`);
  });
  expect(await isListening(port)).toBe(false);
  expect(existsSync(lock)).toBe(false);
  expect(start.output()).toContain("Stopping (");
});
