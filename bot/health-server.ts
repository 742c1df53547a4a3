/**
 * The bot's operator endpoints on a local port: `GET /health` (200 when connected to Discord and
 * taking work, 503 otherwise, with a JSON body saying which) and `GET /metrics` (Prometheus text).
 * Off unless BOT_METRICS_PORT is set; listens on loopback unless BOT_METRICS_HOST says otherwise.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What /health reports. */
export interface HealthReport {
  /** "ok" only when connected to Discord and not shutting down. */
  status: "ok" | "connecting" | "stopping";
  discord: { connected: boolean; pingMs: number | null };
  turnsInFlight: number;
  uptimeSeconds: number;
}

/** A running health server. */
export interface HealthServer {
  /** e.g. http://127.0.0.1:9464 */
  url: string;
  close(): Promise<void>;
}

/** Starts the server; `health` and `metrics` are read on every request. */
export async function startHealthServer(args: { host: string; port: number; health: () => HealthReport; metrics: () => string }): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    if (path === "/health") {
      const report = args.health();
      const body = JSON.stringify({
        status: report.status,
        discord: { connected: report.discord.connected, ping_ms: report.discord.pingMs },
        turns_in_flight: report.turnsInFlight,
        uptime_seconds: report.uptimeSeconds,
      });
      res.writeHead(report.status === "ok" ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" }).end(body);
      return;
    }
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" }).end(args.metrics());
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /health or /metrics\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(args.port, args.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
