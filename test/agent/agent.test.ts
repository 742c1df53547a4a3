import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startAgent, type RunningAgent } from "../../gpu-backend/agent/agent.js";
import type { AgentOptions } from "../../gpu-backend/agent/config.js";
import { startSimulator, type RunningSimulator } from "../../gpu-backend/sim/server.js";
import { Heartbeat } from "../../wire/heartbeat.js";

/** A tiny stand-in for the gateway's heartbeat endpoint that records what it receives. */
interface Recorder {
  url: string;
  port: number;
  beats: Array<{ authorization: string | undefined; body: Heartbeat }>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += String(chunk);
  return text;
}

async function startRecorder(port = 0): Promise<Recorder> {
  const beats: Recorder["beats"] = [];
  const server: Server = createServer((req, res) => {
    void readBody(req).then((text) => {
      const body = Heartbeat.parse(JSON.parse(text));
      beats.push({ authorization: req.headers.authorization, body });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ state: body.state, heartbeatIntervalMs: 1000 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    beats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function waitFor<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const SIM_KEY = "sim-test-key";
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(overrides: Partial<AgentOptions> = {}, simOptions: Parameters<typeof startSimulator>[0] = {}) {
  const sim: RunningSimulator = await startSimulator({ apiKey: SIM_KEY, ttftBaseMs: 5, itlMs: 25, itlJitterMs: 0, ...simOptions });
  cleanups.push(() => sim.stop());
  const gateway = await startRecorder();
  cleanups.push(() => gateway.close());
  const agent: RunningAgent = startAgent(
    {
      gatewayUrl: gateway.url,
      vllmUrl: sim.url,
      publicUrl: "https://gpu-7.tunnel.example.com",
      workerId: "gpu-7",
      poolToken: "pool-secret",
      vllmApiKey: SIM_KEY,
      pollIntervalMs: 50,
      maxBackoffMs: 200,
      drainSettleMs: 150,
      drainDeadlineMs: 20_000,
      ...overrides,
    },
    { log: () => {} },
  );
  cleanups.push(() => agent.stop());
  return { sim, gateway, agent };
}

/** Sends a completion of `maxTokens` tokens to the simulator; resolves with the time it ended. */
async function generate(sim: RunningSimulator, maxTokens: number, signal?: AbortSignal): Promise<number> {
  const res = await fetch(`${sim.url}/v1/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${SIM_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "vicuna-13b-v1.5", prompt: "Tell me a long story.", max_tokens: maxTokens, ignore_eos: true }),
    signal,
  });
  await res.text();
  return Date.now();
}

describe("agent against the vLLM simulator", () => {
  it("heartbeats with the pool token, worker id, public URL, models and load", async () => {
    const { sim, gateway } = await setup();
    const first = await waitFor("a heartbeat", () => gateway.beats[0]);
    expect(first.authorization).toBe("Bearer pool-secret");
    expect(first.body).toMatchObject({
      workerId: "gpu-7",
      url: "https://gpu-7.tunnel.example.com",
      models: [{ id: "vicuna-13b-v1.5", maxModelLen: 4096 }],
      state: "ready",
      healthy: true,
    });

    const request = generate(sim, 40);
    await waitFor("a heartbeat showing the running request", () => gateway.beats.find((beat) => beat.body.load.running >= 1));
    await request;
    const withRate = await waitFor("a heartbeat with tokens/s", () => gateway.beats.find((beat) => beat.body.load.tokensPerSecond > 0));
    expect(withRate.body.load.tokensPerSecond).toBeGreaterThan(0);
    await waitFor("an idle heartbeat after the request", () => gateway.beats.at(-1)?.body.load.running === 0);
  });

  it("on drain reports draining, waits until vLLM has nothing running, then stops", async () => {
    const { sim, gateway, agent } = await setup();
    await waitFor("registration", () => gateway.beats[0]);
    const requestEnded = generate(sim, 60);
    await waitFor("the request running", () => gateway.beats.find((beat) => beat.body.load.running >= 1));

    const outcome = await agent.drainAndStop();
    const drainedAt = Date.now();
    expect(outcome.reason).toBe("idle");
    expect(await requestEnded).toBeLessThanOrEqual(drainedAt);
    expect(gateway.beats.some((beat) => beat.body.state === "draining")).toBe(true);
    expect(agent.status().draining).toBe(true);
    expect(await agent.stopped).toEqual(outcome);

    const beatsAfterStop = gateway.beats.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(gateway.beats.length).toBe(beatsAfterStop);
  });

  it("gives up waiting at the drain deadline", async () => {
    const { sim, gateway, agent } = await setup({ drainDeadlineMs: 400, drainSettleMs: 0 });
    await waitFor("registration", () => gateway.beats[0]);
    const abort = new AbortController();
    const request = generate(sim, 2000, abort.signal).catch(() => 0);
    await waitFor("the request running", () => gateway.beats.find((beat) => beat.body.load.running >= 1));
    const outcome = await agent.drainAndStop();
    expect(outcome.reason).toBe("deadline");
    abort.abort();
    await request;
  });

  it("re-registers by itself after the gateway restarts", async () => {
    const { gateway, agent } = await setup();
    await waitFor("registration", () => gateway.beats[0]);
    await gateway.close();
    await waitFor("failed heartbeats while the gateway is down", () => agent.status().consecutiveFailures >= 2);

    const restarted = await startRecorder(gateway.port);
    cleanups.push(() => restarted.close());
    const beat = await waitFor("a heartbeat to the restarted gateway", () => restarted.beats[0]);
    expect(beat.body).toMatchObject({ workerId: "gpu-7", state: "ready" });
    await waitFor("the failure count to reset", () => agent.status().consecutiveFailures === 0);
  });

  it("drains when the preemption notice file appears", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agent-preempt-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const noticeFile = join(dir, "preempted");
    const drainedFile = join(dir, "drained");
    const { gateway, agent } = await setup({ preemptionFile: noticeFile, drainedFile });
    await waitFor("registration", () => gateway.beats[0]);
    expect(gateway.beats.every((beat) => beat.body.state === "ready")).toBe(true);
    expect(existsSync(drainedFile)).toBe(false);
    writeFileSync(noticeFile, "");
    expect(await agent.stopped).toMatchObject({ reason: "idle" });
    expect(gateway.beats.some((beat) => beat.body.state === "draining")).toBe(true);
    // What the Kubernetes preStop hook of the vLLM container waits for.
    expect(readFileSync(drainedFile, "utf8")).toBe("idle\n");
  });

  it("drains when the preemption endpoint says so", async () => {
    let preempted = false;
    const metadata = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(preempted ? "TRUE" : "FALSE");
    });
    await new Promise<void>((resolve) => metadata.listen(0, "127.0.0.1", resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          metadata.closeAllConnections();
          metadata.close(() => resolve());
        }),
    );
    const url = `http://127.0.0.1:${(metadata.address() as AddressInfo).port}/computeMetadata/v1/instance/preempted`;
    const { gateway, agent } = await setup({ preemptionUrl: url });
    await waitFor("a few heartbeats", () => gateway.beats.length >= 3);
    expect(agent.status().draining).toBe(false);
    preempted = true;
    expect(await agent.stopped).toMatchObject({ reason: "idle" });
  });

  it("reports vLLM unhealthy when it stops answering, and keeps heartbeating", async () => {
    const { sim, gateway } = await setup();
    await waitFor("registration", () => gateway.beats[0]);
    await sim.setFailure({ mode: "refuse" });
    await waitFor("an unhealthy heartbeat", () => gateway.beats.find((beat) => !beat.body.healthy));
  });
});
