/**
 * A simulated GPU box for the pool-dynamics benchmark, as scripts/stack.ts starts them (a vLLM
 * simulator and an agent that heartbeats to the gateway) with one addition: the gateway reaches
 * the simulator through a "tap", a loopback HTTP relay that timestamps every generation request.
 * When the box is killed the tap stays as an observer of its address: answers in progress are cut,
 * and every later request the gateway sends there (on a new connection, or on an idle keep-alive
 * one it still holds) is recorded and reset at once, as a dead host's kernel answers. That is how
 * the benchmark sees attempts the gateway makes on a dead worker, which no client can see.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { startAgent, type RunningAgent } from "../../gpu-backend/agent/agent.js";
import type { SimConfig } from "../../gpu-backend/sim/config.js";
import { startSimulator } from "../../gpu-backend/sim/server.js";

const MODEL_ID = "vicuna-13b-v1.5";

/** What the tap saw. Times are ms since the epoch. */
export interface TapLog {
  /** Arrival of each generation request (`/v1/completions`, `/v1/chat/completions`). */
  readonly requests: number[];
  /** Requests (or new connections) that reached the address after the box died, each reset at once. */
  readonly deadAttempts: number[];
}

/** A started box. */
export interface TappedWorker {
  id: string;
  /** The URL the agent advertises (the tap's). */
  url: string;
  log: TapLog;
  /** Generation requests relayed right now. */
  inFlight(): number;
  /**
   * Kills the box at one instant: the agent stops (a heartbeat already on the wire may still
   * land), the simulator stops, every open connection is cut. Returns the kill time and how many
   * requests were cut mid-answer.
   */
  kill(): Promise<{ killedAt: number; cutInFlight: number }>;
  /** Ends everything, the observer too. */
  close(): Promise<void>;
}

export interface TappedWorkerOptions {
  id: string;
  gatewayUrl: string;
  poolToken: string;
  heartbeatIntervalMs: number;
  sim: Partial<SimConfig>;
}

function isGeneration(req: IncomingMessage): boolean {
  const path = (req.url ?? "").split("?")[0];
  return req.method === "POST" && (path === "/v1/completions" || path === "/v1/chat/completions");
}

/** Starts simulator, tap and agent; resolves once the agent runs (not yet once the pool lists it). */
export async function startTappedWorker(options: TappedWorkerOptions): Promise<TappedWorker> {
  const sim = await startSimulator({ workerId: options.id, model: MODEL_ID, ...options.sim });
  const simUrl = new URL(sim.url);
  const log: TapLog = { requests: [], deadAttempts: [] };
  /** Sockets carrying a generation answer right now: the ones a death cuts. */
  const answering = new Set<Socket>();
  let dead = false;

  const relay = (req: IncomingMessage, res: ServerResponse): void => {
    if (dead) {
      log.deadAttempts.push(Date.now());
      req.socket.resetAndDestroy();
      return;
    }
    if (isGeneration(req)) {
      log.requests.push(Date.now());
      const socket = req.socket;
      answering.add(socket);
      res.once("close", () => answering.delete(socket));
    }
    const upstream = httpRequest(
      { host: simUrl.hostname, port: simUrl.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
        upstreamRes.once("error", () => res.destroy());
      },
    );
    upstream.once("error", () => res.destroy());
    res.once("close", () => upstream.destroy());
    req.pipe(upstream);
  };

  const tap = createServer(relay);
  tap.on("connection", (socket: Socket) => {
    if (!dead) return;
    log.deadAttempts.push(Date.now());
    socket.resetAndDestroy();
  });
  const url = await new Promise<string>((resolve, reject) => {
    tap.once("error", reject);
    tap.listen(0, "127.0.0.1", () => {
      const address = tap.address();
      resolve(`http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`);
    });
  });

  const agent: RunningAgent = startAgent(
    {
      gatewayUrl: options.gatewayUrl,
      vllmUrl: sim.url,
      publicUrl: url,
      workerId: options.id,
      poolToken: options.poolToken,
      pollIntervalMs: options.heartbeatIntervalMs,
      drainSettleMs: Math.min(3_000, 2 * options.heartbeatIntervalMs),
    },
    { log: () => undefined },
  );

  let killed: Promise<{ killedAt: number; cutInFlight: number }> | null = null;
  const kill = (): Promise<{ killedAt: number; cutInFlight: number }> => {
    killed ??= (async () => {
      const killedAt = Date.now();
      dead = true;
      const cutInFlight = answering.size;
      const agentStopped = agent.stop();
      const simStopped = sim.stop();
      for (const socket of answering) socket.resetAndDestroy();
      await Promise.all([agentStopped.catch(() => undefined), simStopped.catch(() => undefined)]);
      return { killedAt, cutInFlight };
    })();
    return killed;
  };

  return {
    id: options.id,
    url,
    log,
    inFlight: () => answering.size,
    kill,
    async close() {
      await kill();
      const closed = new Promise<void>((resolve) => tap.close(() => resolve()));
      // Idle keep-alive connections the gateway still holds would otherwise keep the listener open.
      tap.closeAllConnections();
      await closed;
    },
  };
}
