/**
 * The Miniflare runner serves the real gateway: keys and conversations persist in its state
 * directory across restarts (D1), the pool accepts an agent's worker (Durable Object), and a chat
 * completion streams through it from a simulator.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startAgent, type RunningAgent } from "../../gpu-backend/agent/agent.js";
import { startSimulator, type RunningSimulator } from "../../gpu-backend/sim/server.js";
import { startGatewayMiniflare, type RunningGatewayMiniflare } from "../../scripts/miniflare-runner.js";
import { AdminPool } from "../../wire/pool-admin.js";

const ADMIN = "sk-admin-runner-test";
const POOL_TOKEN = "pool-runner-test";
const VARS = { ADMIN_API_KEY: ADMIN, POOL_TOKEN };

let stateDir: string;
let sim: RunningSimulator;
let gateway: RunningGatewayMiniflare | null = null;
let agent: RunningAgent | null = null;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), "altiplano-mf-runner-"));
  sim = await startSimulator({ workerId: "mf-sim", fast: true, reply: "lorem" });
});

afterAll(async () => {
  await agent?.stop();
  await gateway?.stop();
  await sim.stop();
  await rm(stateDir, { recursive: true, force: true });
});

async function createKey(url: string): Promise<string> {
  const res = await fetch(`${url}/admin/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "runner test", role: "user" }),
  });
  expect(res.status).toBe(201);
  return z.object({ key: z.string() }).parse(await res.json()).key;
}

describe("gateway under the Miniflare runner", () => {
  it("keeps a key across a restart on the same state directory, and streams a completion", { timeout: 120_000 }, async () => {
    gateway = await startGatewayMiniflare({ stateDir, vars: VARS });
    expect(gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const key = await createKey(gateway.url);
    await gateway.stop();

    gateway = await startGatewayMiniflare({ stateDir, vars: VARS, skipMigrations: true });
    const models = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(200);
    await models.arrayBuffer();

    agent = startAgent({ gatewayUrl: gateway.url, vllmUrl: sim.url, workerId: "mf-sim", poolToken: POOL_TOKEN, pollIntervalMs: 200 }, { log: () => undefined });
    await expect
      .poll(async () => {
        const res = await fetch(`${gateway!.url}/admin/pool`, { headers: { authorization: `Bearer ${ADMIN}` } });
        return AdminPool.parse(await res.json()).workers.find((w) => w.id === "mf-sim")?.state;
      }, { timeout: 20_000, interval: 200 })
      .toBe("ready");

    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "Hello" }], max_tokens: 8, stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    expect(res.headers.get("x-altiplano-worker")).toBe("mf-sim");
    const text = await res.text();
    expect(text).toMatch(/"content":"[^"]/);
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });
});
