/**
 * What the agent tells the pool about where and what it is: the runtime (vLLM with its version,
 * or the simulator) from `GET /version`, and the URL of a Cloudflare quick tunnel read from
 * cloudflared's metrics server.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startAgent } from "../../gpu-backend/agent/agent.js";
import { AgentConfigError, parseAgentConfig } from "../../gpu-backend/agent/config.js";
import { urlFromQuickTunnelReply } from "../../gpu-backend/agent/quick-tunnel.js";
import { runtimeFromVersionReply } from "../../gpu-backend/agent/runtime.js";
import { SIMULATOR_VERSION, startSimulator } from "../../gpu-backend/sim/server.js";
import { renderStatus } from "../../scripts/pool-cli.js";
import { Heartbeat } from "../../wire/heartbeat.js";
import type { AdminPool, AdminPoolWorker } from "../../wire/pool-admin.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A loopback HTTP server answering each path with the handler's JSON; records request bodies. */
async function jsonServer(handler: (path: string, body: string) => { status: number; body: unknown }): Promise<string> {
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += String(chunk)));
    req.on("end", () => {
      const answer = handler(new URL(req.url ?? "/", "http://x").pathname, body);
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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

/** A gateway stand-in that records heartbeats. */
async function recorder(): Promise<{ url: string; beats: Heartbeat[] }> {
  const beats: Heartbeat[] = [];
  const url = await jsonServer((_path, body) => {
    const beat = Heartbeat.parse(JSON.parse(body));
    beats.push(beat);
    return { status: 200, body: { state: beat.state, heartbeatIntervalMs: 1000 } };
  });
  return { url, beats };
}

describe("runtimeFromVersionReply", () => {
  it.each([
    ["real vLLM", { version: "0.18.1" }, { kind: "vllm", version: "0.18.1" }],
    ["a vLLM dev build", { version: "0.18.2.dev12+g1234abc" }, { kind: "vllm", version: "0.18.2.dev12+g1234abc" }],
    ["the simulator", { version: SIMULATOR_VERSION, simulator: true }, { kind: "simulator", version: SIMULATOR_VERSION }],
    ["simulator must be exactly true", { version: "0.1.0", simulator: "yes" }, { kind: "vllm", version: "0.1.0" }],
    ["no version", { simulator: true }, null],
    ["a number for a version", { version: 18 }, null],
    ["an empty version", { version: "  " }, null],
    ["a version too long to be one", { version: "x".repeat(65) }, null],
    ["not an object", "0.18.1", null],
    ["null", null, null],
  ])("%s", (_name, body, want) => {
    expect(runtimeFromVersionReply(body)).toEqual(want);
  });
});

describe("urlFromQuickTunnelReply", () => {
  it.each([
    ["a quick tunnel", { hostname: "brave-otter-seven.trycloudflare.com" }, "https://brave-otter-seven.trycloudflare.com"],
    ["upper case is folded", { hostname: "Brave-Otter.TryCloudflare.com" }, "https://brave-otter.trycloudflare.com"],
    ["a named tunnel (no quick tunnel)", { hostname: "" }, null],
    ["a path smuggled in", { hostname: "evil.example.com/x" }, null],
    ["userinfo smuggled in", { hostname: "a@evil.example.com" }, null],
    ["a port", { hostname: "x.trycloudflare.com:8443" }, null],
    ["a bare label", { hostname: "localhost" }, null],
    ["no hostname", {}, null],
    ["not an object", "x.trycloudflare.com", null],
  ])("%s", (_name, body, want) => {
    expect(urlFromQuickTunnelReply(body)).toEqual(want);
  });
});

describe("agent config: fixed URL or quick tunnel", () => {
  const base = { AGENT_GATEWAY_URL: "https://gw.example.com", POOL_TOKEN: "t" };

  it("a fixed public URL is advertised as given; none means the vLLM URL (local use)", () => {
    expect(parseAgentConfig([], { ...base, AGENT_PUBLIC_URL: "https://vicuna-1.gpu.example.com/" }).publicUrl).toBe("https://vicuna-1.gpu.example.com");
    expect(parseAgentConfig(["--vllm-url", "http://127.0.0.1:9001"], base).publicUrl).toBe("http://127.0.0.1:9001");
  });

  it("with a quick tunnel there is no fixed URL until cloudflared names one", () => {
    const config = parseAgentConfig(["--quick-tunnel-metrics-url", "http://127.0.0.1:20241"], base);
    expect(config.quickTunnelMetricsUrl).toBe("http://127.0.0.1:20241");
    expect(config.publicUrl).toBeUndefined();
  });

  it("refuses both a fixed URL and a quick tunnel, naming both settings", () => {
    const both = () => parseAgentConfig([], { ...base, AGENT_PUBLIC_URL: "https://a.example.com", AGENT_QUICK_TUNNEL_METRICS_URL: "http://127.0.0.1:20241" });
    expect(both).toThrow(AgentConfigError);
    expect(both).toThrow(/AGENT_PUBLIC_URL.*AGENT_QUICK_TUNNEL_METRICS_URL.*not both/);
  });
});

describe("agent heartbeats", () => {
  const agentOptions = { poolToken: "pool-secret", pollIntervalMs: 50, maxBackoffMs: 200, modelsRefreshMs: 200 };

  it("say the simulator is the simulator", async () => {
    const sim = await startSimulator({ fast: true });
    cleanups.push(() => sim.stop());
    const gateway = await recorder();
    const agent = startAgent({ ...agentOptions, gatewayUrl: gateway.url, vllmUrl: sim.url, workerId: "sim-x" }, { log: () => {} });
    cleanups.push(() => agent.stop());
    const beat = await waitFor("a heartbeat", () => gateway.beats[0]);
    expect(beat.runtime).toEqual({ kind: "simulator", version: SIMULATOR_VERSION });
    expect(agent.status().runtime).toEqual({ kind: "simulator", version: SIMULATOR_VERSION });
  });

  it("carry vLLM's version from /version, and leave the runtime out (still joining) when /version cannot be read", async () => {
    let version: { status: number; body: unknown } = { status: 200, body: { version: "0.18.1" } };
    // A vLLM-shaped server: the agent only reads these four routes.
    const vllm = await jsonServer((path) => {
      if (path === "/health") return { status: 200, body: {} };
      if (path === "/metrics") return { status: 200, body: "" };
      if (path === "/v1/models") return { status: 200, body: { data: [{ id: "vicuna-13b-v1.5", max_model_len: 4096 }] } };
      if (path === "/version") return version;
      return { status: 404, body: { detail: "Not Found" } };
    });
    const gateway = await recorder();
    const agent = startAgent({ ...agentOptions, gatewayUrl: gateway.url, vllmUrl: vllm, workerId: "real-1" }, { log: () => {} });
    cleanups.push(() => agent.stop());
    expect((await waitFor("a heartbeat", () => gateway.beats[0])).runtime).toEqual({ kind: "vllm", version: "0.18.1" });

    // An upgraded vLLM is picked up at the next refresh.
    version = { status: 200, body: { version: "0.19.0" } };
    await waitFor("the new version", () => gateway.beats.find((beat) => beat.runtime?.version === "0.19.0"));

    await agent.stop();
    gateway.beats.length = 0;
    version = { status: 404, body: { detail: "Not Found" } };
    const blind = startAgent({ ...agentOptions, gatewayUrl: gateway.url, vllmUrl: vllm, workerId: "real-2" }, { log: () => {} });
    cleanups.push(() => blind.stop());
    const beat = await waitFor("a heartbeat without a runtime", () => gateway.beats.find((b) => b.workerId === "real-2"));
    expect(beat.runtime).toBeUndefined();
  });

  it("behind a quick tunnel, advertise cloudflared's current URL, wait for one, and follow a new one", async () => {
    const sim = await startSimulator({ fast: true });
    cleanups.push(() => sim.stop());
    let hostname = "";
    const cloudflared = await jsonServer((path) => (path === "/quicktunnel" ? { status: 200, body: { hostname } } : { status: 404, body: {} }));
    const gateway = await recorder();
    const agent = startAgent(
      { ...agentOptions, gatewayUrl: gateway.url, vllmUrl: sim.url, workerId: "tunnelled", quickTunnelMetricsUrl: cloudflared },
      { log: () => {} },
    );
    cleanups.push(() => agent.stop());

    // No URL yet (cloudflared still connecting): the agent does not join with a wrong one.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(gateway.beats).toEqual([]);
    expect(agent.status().publicUrl).toBeNull();

    hostname = "first-name.trycloudflare.com";
    expect((await waitFor("a heartbeat", () => gateway.beats[0])).url).toBe("https://first-name.trycloudflare.com");

    // cloudflared restarted (a recovered VM): a new random name, which the pool must learn.
    hostname = "second-name.trycloudflare.com";
    await waitFor("a heartbeat with the new URL", () => gateway.beats.find((beat) => beat.url === "https://second-name.trycloudflare.com"));
    expect(agent.status().publicUrl).toBe("https://second-name.trycloudflare.com");
  });
});

describe("npm run pool: the RUNTIME column", () => {
  function worker(id: string, runtime: AdminPoolWorker["runtime"]): AdminPoolWorker {
    return {
      object: "pool.worker",
      id,
      url: `https://${id}.gpu.example.com`,
      state: "ready",
      healthy: true,
      agent_state: "ready",
      admin_state: "active",
      models: [{ id: "vicuna-13b-v1.5", maxModelLen: 4096 }],
      runtime,
      load: { running: 1, waiting: 0, kv_cache_usage: 0.1, prefix_cache_hit_rate: 0.5, tokens_per_second: 30 },
      joined_at: 0,
      last_heartbeat_at: 0,
      last_heartbeat_age_ms: 400,
      consecutive_failures: 0,
      total_failures: 0,
      cooldown_until: 0,
    };
  }

  it("says vLLM and its version, simulator, or unknown for each worker", () => {
    const pool: AdminPool = {
      object: "pool",
      taken_at: 1_000,
      heartbeat_interval_ms: 1_000,
      workers: [
        worker("gpu-1", { kind: "vllm", version: "0.18.1" }),
        worker("sim-8001", { kind: "simulator", version: SIMULATOR_VERSION }),
        worker("old-agent", { kind: "unknown", version: null }),
      ],
      models: [],
    };
    const lines = renderStatus(pool).split("\n");
    const runtimeOf = (prefix: string) => lines.find((line) => line.startsWith(prefix))?.split(/\s{2,}/)[3];
    expect(runtimeOf("WORKER")).toBe("RUNTIME");
    expect(runtimeOf("gpu-1")).toBe("vLLM 0.18.1");
    expect(runtimeOf("sim-8001")).toBe("simulator");
    expect(runtimeOf("old-agent")).toBe("unknown");
  });
});
