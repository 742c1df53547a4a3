/**
 * The operator's side of a running `npm start`: the pool token and the join command it prints
 * work (and a wrong token is refused), `npm run pool` works with nothing but the state directory,
 * a second `npm start` on the same state refuses, and a worker that dies is reported, not
 * restarted. One `npm start` for the file; each test leaves sim-1 and sim-2 as they were, except
 * the last, which kills one.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/stack.js";
import { LOCK_FILE } from "../../scripts/state-lock.js";
import { AdminPool, type AdminPoolWorker } from "../../wire/pool-admin.js";
import { waitFor } from "../support/wait.js";
import { npmStart, READY_LINE, type NpmStart } from "./npm-start.js";
import { descendants, isAlive } from "./process-tree.js";

const ROOT = path.resolve(import.meta.dirname, "..", "..");

let start: NpmStart;
let stateDir: string;
let port: number;
let gateway: string;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), "altiplano-service-"));
  port = await freePort();
  gateway = `http://127.0.0.1:${port}`;
  start = npmStart({ stateDir, port });
  await start.waitForOutput(READY_LINE);
});

afterAll(async () => {
  if (start?.child.pid !== undefined) {
    const tree = descendants(start.child.pid);
    start.child.kill("SIGTERM");
    await waitFor(() => (tree.every((p) => !isAlive(p.pid)) ? true : undefined), 30_000, "npm start stopped");
  }
  await rm(stateDir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end. */
function run(command: string, args: readonly string[], env: Record<string, string | undefined> = {}, timeoutMs = 90_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} did not finish within ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function poolWorkers(): Promise<AdminPoolWorker[]> {
  const adminKey = (await readFile(path.join(stateDir, "admin-key"), "utf8")).trim();
  const res = await fetch(`${gateway}/admin/pool`, { headers: { authorization: `Bearer ${adminKey}` } });
  expect(res.status).toBe(200);
  return AdminPool.parse(await res.json()).workers;
}

/** The printed join command's arguments after `npm run worker --`. */
function printedJoinArgs(): string[] {
  const line = /^npm run worker -- (.+)$/m.exec(start.output())?.[1];
  expect(line, start.output()).toBeDefined();
  return line!.split(" ");
}

describe("a running npm start, as an operator uses it", () => {
  it("prints the pool token it keeps in the state directory, and the command that joins a worker", async () => {
    const saved = (await readFile(path.join(stateDir, "pool-token"), "utf8")).trim();
    expect(start.output()).toMatch(new RegExp(`^Pool token: ${saved} `, "m"));
    expect(printedJoinArgs()).toEqual(["--gateway", gateway, "--pool-token", saved, "--model", "vicuna-13b-v1.5", "--id", "sim-3"]);
  });

  it("the printed command joins one more worker, which drains and exits 0 on SIGTERM; a wrong token is refused", async () => {
    const args = printedJoinArgs();
    const refused = await run("npm", ["run", "-s", "worker", "--", ...args.map((a, i) => (args[i - 1] === "--pool-token" ? "not-the-token" : a === "sim-3" ? "sim-intruder" : a))]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("refused the pool token: 401");
    expect((await poolWorkers()).map((w) => w.id)).not.toContain("sim-intruder");

    const worker = spawn("npm", ["run", "-s", "worker", "--", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "";
    worker.stdout.on("data", (d: Buffer) => (out += d.toString()));
    worker.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => worker.once("exit", (code) => resolve(code)));
    try {
      await waitFor(() => (out.includes(`worker sim-3 joined ${gateway}`) ? true : undefined), 60_000, "sim-3 joined");
      const joined = await waitFor(async () => (await poolWorkers()).find((w) => w.id === "sim-3" && w.state === "ready"), 10_000, "sim-3 ready");
      expect(joined.models.map((m) => m.id)).toEqual(["vicuna-13b-v1.5"]);
      // SIGTERM to the worker program (as systemd or Kubernetes stop a box); npm reports its exit code.
      const program = descendants(worker.pid!).find((p) => /^\S*node --import tsx \S*gpu-backend\/worker\/main\.ts/.test(p.command));
      process.kill(program!.pid, "SIGTERM");
      expect(await exited, out).toBe(0);
      expect(out).toContain("drained (idle)");
      // It said it was leaving: out of rotation at once, gone once silent.
      expect(["draining", "unhealthy", "gone"]).toContain((await poolWorkers()).find((w) => w.id === "sim-3")?.state);
    } finally {
      if (worker.exitCode === null) process.kill(-worker.pid!, "SIGKILL");
    }
  });

  it("npm run pool works with only the state directory: it reads the admin key npm start saved", async () => {
    const status = await run("npm", ["run", "-s", "pool", "--", "status"], { ALTIPLANO_URL: gateway, ALTIPLANO_STATE_DIR: stateDir, ALTIPLANO_ADMIN_KEY: "" });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^sim-1 +ready +vicuna-13b-v1\.5 /m);
    expect(status.stdout).toMatch(/^sim-2 +ready +vicuna-7b-v1\.5 /m);

    const nowhere = await mkdtemp(path.join(tmpdir(), "altiplano-nokey-"));
    try {
      const noKey = await run("npm", ["run", "-s", "pool", "--", "status"], { ALTIPLANO_URL: gateway, ALTIPLANO_STATE_DIR: nowhere, ALTIPLANO_ADMIN_KEY: "" });
      expect(noKey.code).toBe(1);
      expect(noKey.stderr).toContain("no admin key: set ALTIPLANO_ADMIN_KEY");
    } finally {
      await rm(nowhere, { recursive: true, force: true });
    }
  });

  it("a second npm start on the same state directory refuses, naming the running one, and the first runs on", async () => {
    const holder = Number((await readFile(path.join(stateDir, LOCK_FILE), "utf8")).trim());
    const second = await run(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
      ALTIPLANO_STATE_DIR: stateDir,
      ALTIPLANO_PORT: String(await freePort()),
      DISCORD_TOKEN: "",
    });
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`Another \`npm start\` (pid ${holder}) is already running on ${stateDir}.`);
    expect(second.stdout + second.stderr).not.toMatch(/workerd|SQLITE_BUSY|at .*\.ts:\d+/);
    expect((await fetch(`${gateway}/health`)).status).toBe(200);
    expect(Number((await readFile(path.join(stateDir, LOCK_FILE), "utf8")).trim())).toBe(holder);
  });

  it("a worker killed outright is reported on the console and not restarted; the pool marks it gone", async () => {
    const pid = Number(/sim-1 \(vicuna-13b-v1\.5, pid (\d+)\)/.exec(start.output())?.[1]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, "SIGKILL");
    await start.waitForOutput(`Worker sim-1 (vicuna-13b-v1.5, pid ${pid}) killed by SIGKILL. It is not restarted`, 10_000);
    await waitFor(async () => ((await poolWorkers()).find((w) => w.id === "sim-1")?.state === "gone" ? true : undefined), 30_000, "sim-1 gone");
    // Nothing took its place: no process of that id under npm start.
    const tree = descendants(start.child.pid!);
    expect(tree.filter((p) => p.command.includes("--id sim-1 "))).toEqual([]);
    expect((await poolWorkers()).find((w) => w.id === "sim-2")?.state).toBe("ready");
  });
});
