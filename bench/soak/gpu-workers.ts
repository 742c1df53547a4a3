/**
 * GPU workers as real processes, as on a GPU box: the vLLM simulator (`npm run sim`'s main) and
 * its agent (`npm run agent`'s main) each in its own process, so a fault can SIGKILL them. Also
 * reads resident memory from /proc for the soak's flatness figures.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, spawnNode, waitForLine, type Child } from "../overhead/processes.js";

const START_TIMEOUT_MS = 90_000;

/** One GPU worker: simulator and agent processes. */
export interface GpuWorker {
  id: string;
  simUrl: string;
  sim: Child;
  agent: Child;
  /** Both processes, SIGKILLed at once: a dead box (nothing drains, nothing says goodbye). */
  kill(): void;
  /** SIGTERM, then SIGKILL after a grace. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  id: string;
  gatewayUrl: string;
  poolToken: string;
  /** The pool's heartbeat interval. */
  heartbeatMs: number;
  /** Extra simulator flags. */
  simFlags: readonly string[];
}

export async function startGpuWorker(o: WorkerOptions): Promise<GpuWorker> {
  const sim = spawnNode(["--import", "tsx", path.join(ROOT, "gpu-backend", "sim", "main.ts"), "--worker-id", o.id, "--port", "0", ...o.simFlags]);
  let simUrl: string;
  try {
    simUrl = (await waitForLine(sim, /listening on (http:\/\/\S+)/, START_TIMEOUT_MS))[1]!;
  } catch (error) {
    await sim.stop();
    throw error;
  }
  const agent = spawnNode(
    [
      "--import", "tsx", path.join(ROOT, "gpu-backend", "agent", "main.ts"),
      "--gateway-url", o.gatewayUrl,
      "--vllm-url", simUrl,
      "--worker-id", o.id,
      "--poll-interval-ms", String(o.heartbeatMs),
      "--drain-settle-ms", String(Math.min(3_000, 2 * o.heartbeatMs)),
    ],
    { env: { POOL_TOKEN: o.poolToken } },
  );
  const kill = (): void => {
    for (const child of [sim, agent]) {
      if (child.process.pid !== undefined && child.process.exitCode === null && child.process.signalCode === null) {
        try {
          process.kill(child.process.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  };
  return { id: o.id, simUrl, sim, agent, kill, stop: async () => void (await Promise.all([agent.stop(), sim.stop()])) };
}

/** Sets (null clears) a simulator's injected failure through its admin API (gpu-backend/sim/failures.ts). */
export async function setSimFailure(simUrl: string, failure: Record<string, unknown> | null): Promise<void> {
  const res = await fetch(`${simUrl}/admin/failure`, failure === null ? { method: "DELETE" } : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(failure) });
  if (!res.ok) throw new Error(`simulator failure ${JSON.stringify(failure)}: ${res.status} ${await res.text()}`);
}

/** Resident set size of a process, bytes (0 when it is gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
