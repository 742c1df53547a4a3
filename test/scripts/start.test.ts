/**
 * What a newcomer does: `npm start`, open the printed Web URL, sign in with the printed key.
 * The start script runs as its own process (as `npm start` runs it), on a free port and a fresh
 * state directory, and is stopped with Ctrl-C's signal.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../../scripts/stack.js";

let child: ChildProcess;
let output = "";
let stateDir: string;
let port: number;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), "altiplano-start-"));
  port = await freePort();
  child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    env: { ...process.env, ALTIPLANO_PORT: String(port), ALTIPLANO_STATE_DIR: stateDir, ALTIPLANO_SIMS: "1", ALTIPLANO_PUBLIC_DEMO: "1", DISCORD_TOKEN: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 90_000;
  while (!output.includes("Press Ctrl-C to stop.")) {
    if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not become ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  await rm(stateDir, { recursive: true, force: true });
});

it("prints the web page's URL, which serves the chat page; the printed key signs in; the demo works without one", async () => {
  const web = new RegExp(`^Web: +(http://127\\.0\\.0\\.1:${port}/)`, "m").exec(output)?.[1];
  expect(web, output).toBeDefined();
  const page = await fetch(web!);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<div id="app"></div>');

  const apiKey = /^API key: +(sk-alt-\S+)$/m.exec(output)?.[1];
  expect(apiKey, output).toBeDefined();
  const origin = web!.replace(/\/$/, "");
  const signIn = await fetch(`${origin}/auth/session`, {
    method: "POST",
    headers: { "content-type": "application/json", origin },
    body: JSON.stringify({ api_key: apiKey }),
  });
  expect(signIn.status).toBe(200);
  expect(await signIn.json()).toMatchObject({ signed_in: true, kind: "key", role: "user", demo: true });

  const demo = await fetch(`${origin}/auth/demo`, { method: "POST", headers: { origin } });
  expect(demo.status).toBe(200);
  const cookie = demo.headers.get("set-cookie")!.split(";")[0]!;
  const models = await fetch(`${origin}/v1/models`, { headers: { cookie } });
  expect(models.status).toBe(200);
});
