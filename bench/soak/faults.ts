/**
 * The fault matrix, one entry per fault: what is done to the stack when it starts and ends. The
 * phase runner (phase.ts) keeps 32 streams going around it and judges the outcome.
 */
import type { SoakConfig } from "./config.js";
import { setSimFailure, type GpuWorker } from "./gpu-workers.js";

/** What a fault acts on. */
export interface FaultContext {
  /** The worker the fault hits (the first one). */
  victim: GpuWorker;
  /** Opens a gateway fault (POST /admin/faults) for `ms`. */
  gatewayFault(target: "d1" | "limiter", ms: number): Promise<void>;
  /** Kills the victim's processes and starts a fresh worker under the same id; resolves once the pool has it ready. */
  replaceVictim(): Promise<void>;
  /** Whether clients leave their turns after the first token right now. */
  setDisconnecting(on: boolean): void;
}

export interface Fault {
  name: string;
  /** What is done, for the report. */
  description: string;
  /** How long the fault lasts, seconds; 0 = an instant (a kill): recovery counts from it. */
  seconds(config: SoakConfig): number;
  /** `ms`: the fault's length, for faults that end by themselves. */
  start(ctx: FaultContext, ms: number): Promise<void>;
  end(ctx: FaultContext): Promise<void>;
  /** Runs after the phase's read-back (restoring the stack for the next fault). */
  restore?(ctx: FaultContext): Promise<void>;
  /** Extra wait before reading conversations back: a gateway may take CLIENT_STALL_TIMEOUT_MS (10 s) to notice a client that left. */
  settleMs?: number;
}

const simFault = (name: string, description: string, failure: Record<string, unknown>): Fault => ({
  name,
  description,
  seconds: (c) => c.faultSeconds,
  start: (ctx) => setSimFailure(ctx.victim.simUrl, failure),
  end: (ctx) => setSimFailure(ctx.victim.simUrl, null),
});

export const FAULTS: readonly Fault[] = [
  {
    name: "worker killed",
    description: "the first worker's simulator and agent processes SIGKILLed at once (a dead GPU box); a fresh one joins after the phase",
    seconds: () => 0,
    start: async (ctx) => ctx.victim.kill(),
    end: async () => undefined,
    restore: (ctx) => ctx.replaceVictim(),
  },
  simFault("hang before first token", "the first worker answers 200 and SSE headers, then nothing (sim `hang`)", { mode: "hang" }),
  simFault("stall mid-stream", "the first worker stops sending after 5 tokens, connection open (sim `stall-after`)", { mode: "stall-after", afterTokens: 5 }),
  simFault("worker answers 500", "the first worker answers every generation with a vLLM-shaped 500 (sim `http-500`)", { mode: "http-500" }),
  simFault("malformed SSE", "the first worker sends one `data:` line of truncated JSON after 3 tokens, then goes on (sim `malformed-sse`)", { mode: "malformed-sse", afterTokens: 3 }),
  {
    name: "client disconnects",
    description: "half the turns started during the fault are left by their client after the first token",
    seconds: (c) => c.faultSeconds,
    start: async (ctx) => ctx.setDisconnecting(true),
    end: async (ctx) => ctx.setDisconnecting(false),
    // Past CLIENT_STALL_TIMEOUT_MS (10 s), the longest the gateway may take to notice under Miniflare.
    settleMs: 20_000,
  },
  {
    name: "D1 failing",
    description: "every D1 call of the gateway fails (FAULT_INJECTION, POST /admin/faults target d1)",
    seconds: (c) => c.storeFaultSeconds,
    start: (ctx, ms) => ctx.gatewayFault("d1", ms),
    end: async () => undefined,
  },
  {
    name: "limiter failing",
    description: "every call to the rate limiter Durable Object fails (FAULT_INJECTION, POST /admin/faults target limiter)",
    seconds: (c) => c.storeFaultSeconds,
    start: (ctx, ms) => ctx.gatewayFault("limiter", ms),
    end: async () => undefined,
  },
];
