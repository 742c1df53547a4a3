/**
 * /health and /metrics over real HTTP on loopback, with the reports scripted: which status each
 * health state answers with, and what the body says.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startHealthServer, type HealthReport, type HealthServer } from "../../bot/health-server.js";

let server: HealthServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const report = (status: HealthReport["status"], connected: boolean): HealthReport => ({ status, discord: { connected, pingMs: connected ? 42 : null }, turnsInFlight: 3, uptimeSeconds: 7 });

describe("health server", () => {
  it.each([
    { health: report("ok", true), code: 200 },
    { health: report("connecting", false), code: 503 },
    { health: report("stopping", true), code: 503 },
  ])("answers $code when the bot is $health.status", async ({ health, code }) => {
    server = await startHealthServer({ host: "127.0.0.1", port: 0, health: () => health, metrics: () => "" });
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(code);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({
      status: health.status,
      discord: { connected: health.discord.connected, ping_ms: health.discord.pingMs },
      turns_in_flight: 3,
      uptime_seconds: 7,
    });
  });

  it("serves the metrics text as Prometheus' content type, reading it on every request", async () => {
    let n = 0;
    server = await startHealthServer({ host: "127.0.0.1", port: 0, health: () => report("ok", true), metrics: () => `x_total ${++n}\n` });
    const first = await fetch(`${server.url}/metrics`);
    expect(first.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await first.text()).toBe("x_total 1\n");
    expect(await (await fetch(`${server.url}/metrics`)).text()).toBe("x_total 2\n");
  });

  it.each([
    { method: "GET", path: "/", code: 404 },
    { method: "GET", path: "/healthz", code: 404 },
    { method: "POST", path: "/health", code: 405 },
    { method: "DELETE", path: "/metrics", code: 405 },
    { method: "HEAD", path: "/health", code: 200 },
  ])("$method $path → $code", async ({ method, path, code }) => {
    server = await startHealthServer({ host: "127.0.0.1", port: 0, health: () => report("ok", true), metrics: () => "" });
    expect((await fetch(`${server.url}${path}`, { method })).status).toBe(code);
  });

  it("listens on loopback, and fails to start on a port already taken", async () => {
    server = await startHealthServer({ host: "127.0.0.1", port: 0, health: () => report("ok", true), metrics: () => "" });
    expect(new URL(server.url).hostname).toBe("127.0.0.1");
    const port = Number(new URL(server.url).port);
    await expect(startHealthServer({ host: "127.0.0.1", port, health: () => report("ok", true), metrics: () => "" })).rejects.toThrow(/EADDRINUSE/);
  });
});
