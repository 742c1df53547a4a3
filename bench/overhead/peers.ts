/**
 * Everything the overhead benchmark compares the gateway with, each started on 127.0.0.1: the
 * simulator in its own Node process (a GPU box is another machine; here at least another event
 * loop), the bare pass-through Worker in workerd (Miniflare directly, or `wrangler dev`), and the
 * Portkey AI gateway on Node.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import { freePort } from "../../scripts/stack.js";
import { bundleWorker } from "../../scripts/miniflare-runner.js";
import { ROOT, spawnNode, waitForHttp, waitForLine, WRANGLER_BIN, WRANGLER_ENV } from "./processes.js";

const START_TIMEOUT_MS = 90_000;
const COMPATIBILITY_DATE = "2026-04-20";
const PASSTHROUGH_WORKER = path.join(ROOT, "bench", "overhead", "passthrough-worker.js");
const PORTKEY_PRELOAD = path.join(ROOT, "bench", "overhead", "portkey-preload.mjs");
const PORTKEY_BIN = path.join(ROOT, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");

/** Something listening with a base URL, and how to stop it. */
export interface Running {
  url: string;
  stop(): Promise<void>;
}

/**
 * The simulator with no latency, fixed-length lorem replies seeded by the prompt: what is left of
 * a request's time is the gateway's own (the overhead, profile and turns benchmarks use it).
 */
export const FAST_SIM_FLAGS: readonly string[] = ["--fast", "--reply", "lorem", "--reply-length", "max", "--seeding", "prompt"];

/** The simulator CLI (gpu-backend/sim/main.ts) in its own process; `flags` as on its command line. */
export async function startSimProcess(o: { workerId: string; flags: readonly string[] }): Promise<Running> {
  const child = spawnNode(["--import", "tsx", path.join(ROOT, "gpu-backend", "sim", "main.ts"), "--worker-id", o.workerId, "--port", "0", ...o.flags]);
  try {
    const m = await waitForLine(child, /listening on (http:\/\/\S+)/, START_TIMEOUT_MS);
    return { url: m[1]!, stop: child.stop };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** The bare pass-through Worker in workerd through Miniflare's API (no dev proxy). */
export async function startPassthroughMiniflare(upstreamUrl: string): Promise<Running> {
  const mf = new Miniflare({
    modules: true,
    script: await bundleWorker(PASSTHROUGH_WORKER),
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: { UPSTREAM_URL: upstreamUrl },
    host: "127.0.0.1",
    port: 0,
    cf: false,
  });
  const url = await mf.ready;
  return { url: url.origin, stop: () => mf.dispose() };
}

/** The same bare Worker under `wrangler dev` (its dev proxy in front of workerd). */
export async function startPassthroughWranglerDev(upstreamUrl: string): Promise<Running> {
  const dir = await mkdtemp(path.join(tmpdir(), "altiplano-bench-passthrough-"));
  const config = path.join(dir, "wrangler.toml");
  await writeFile(
    config,
    [
      `name = "bench-passthrough"`,
      `main = ${JSON.stringify(PASSTHROUGH_WORKER)}`,
      `compatibility_date = "${COMPATIBILITY_DATE}"`,
      `[vars]`,
      `UPSTREAM_URL = ${JSON.stringify(upstreamUrl)}`,
    ].join("\n"),
  );
  const port = await freePort();
  const child = spawnNode(
    [
      WRANGLER_BIN, "dev",
      "--config", config,
      "--ip", "127.0.0.1",
      "--port", String(port),
      "--inspector-port", String(await freePort()),
      "--persist-to", path.join(dir, "state"),
      "--show-interactive-dev-session=false",
      "--log-level", "warn",
    ],
    { env: WRANGLER_ENV, cwd: dir },
  );
  const stop = async (): Promise<void> => {
    await child.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    // Any path reaches the upstream; the simulator answers /health with 200.
    await waitForHttp(`${url}/health`, { child, timeoutMs: START_TIMEOUT_MS });
    return { url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The Portkey AI gateway (npm @portkey-ai/gateway, its own Node server), pinned to loopback. */
export async function startPortkey(): Promise<Running> {
  const port = await freePort();
  const child = spawnNode(["--import", PORTKEY_PRELOAD, PORTKEY_BIN, `--port=${port}`, "--headless"], {
    // production: no log UI routes; nothing else changes on the request path.
    env: { NODE_ENV: "production" },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/`, { child, timeoutMs: START_TIMEOUT_MS });
    return { url, stop: child.stop };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** Headers that make Portkey forward to an OpenAI-compatible server at `baseUrl` (…/v1). */
export function portkeyHeaders(baseUrl: string): Record<string, string> {
  return {
    "x-portkey-provider": "openai",
    "x-portkey-custom-host": baseUrl,
    authorization: "Bearer sk-bench-unused",
  };
}
