/**
 * A pool worker as the operator reads it: its state's label and tone (the badge's colour), its
 * circuit breaker, what runs it, and which operator actions make sense now. Pure: the table
 * tests in test/web/dashboard-worker-state.test.ts cover every state.
 */
import type { PoolWorkerState } from "./pool-schemas.js";
import { formatDuration } from "./format.js";

/** A badge's colour family; dashboard.css maps each to a colour per theme. */
export type Tone = "ok" | "warn" | "danger" | "info" | "off";

export interface StateView {
  label: string;
  tone: Tone;
  /** One sentence for the badge's title: what the state means for traffic. */
  meaning: string;
}

const STATES: Record<PoolWorkerState, StateView> = {
  ready: { label: "Ready", tone: "ok", meaning: "Takes new requests." },
  draining: { label: "Draining", tone: "warn", meaning: "Finishes the requests it has and takes no new ones." },
  cordoned: { label: "Cordoned", tone: "info", meaning: "Takes no new requests until uncordoned; running ones continue." },
  unhealthy: { label: "Unhealthy", tone: "danger", meaning: "vLLM's health check fails: no traffic is sent to it." },
  gone: { label: "Gone", tone: "off", meaning: "Missed its heartbeats: treated as a dead box." },
};

export function stateView(state: PoolWorkerState): StateView {
  return STATES[state];
}

export interface BreakerView {
  /** "closed", "closed · 2 failures", "open · 4.5 s left". */
  label: string;
  open: boolean;
}

/** The circuit breaker: open while its cooldown runs; closed otherwise, with the failures in a row. */
export function breakerView(worker: { cooldown_until: number; consecutive_failures: number }, now: number): BreakerView {
  if (worker.cooldown_until > now) return { label: `open · ${formatDuration(worker.cooldown_until - now)} left`, open: true };
  const failures = worker.consecutive_failures;
  if (failures <= 0) return { label: "closed", open: false };
  return { label: `closed · ${failures} ${failures === 1 ? "failure" : "failures"}`, open: false };
}

export type WorkerAction = "drain" | "cordon" | "uncordon" | "remove";

export const ACTION_LABELS: Record<WorkerAction, string> = { drain: "Drain", cordon: "Cordon", uncordon: "Uncordon", remove: "Remove" };

/**
 * The actions that change something for a worker with this operator state: drain unless already
 * draining, cordon only an active worker (the pool keeps a drained one draining), uncordon what
 * an operator drained or cordoned, remove always (a live agent joins again on its next beat).
 */
export function availableActions(adminState: "active" | "cordoned" | "draining"): WorkerAction[] {
  const actions: WorkerAction[] = [];
  if (adminState !== "draining") actions.push("drain");
  if (adminState === "active") actions.push("cordon");
  if (adminState !== "active") actions.push("uncordon");
  actions.push("remove");
  return actions;
}

/** The question the confirmation asks before an action. */
export function confirmQuestion(action: WorkerAction, workerId: string): string {
  switch (action) {
    case "drain":
      return `Drain ${workerId}? It finishes its running requests and takes no new ones until uncordoned.`;
    case "cordon":
      return `Cordon ${workerId}? It takes no new requests; running ones continue.`;
    case "uncordon":
      return `Uncordon ${workerId}? It takes new requests again.`;
    case "remove":
      return `Remove ${workerId} from the pool? Its requests in flight fail over; a live agent joins again with its next heartbeat.`;
  }
}

/** What runs a worker, as /admin/pool reports it (absent on gateways that do not say). */
export interface RuntimeInfo {
  kind: "vllm" | "simulator" | "unknown";
  version: string | null;
}

/** "vLLM 0.18.1", "simulator (no model)", "unknown", or null when the gateway does not report it. */
export function runtimeLabel(runtime: RuntimeInfo | undefined): string | null {
  if (runtime === undefined) return null;
  if (runtime.kind === "vllm") return runtime.version === null ? "vLLM" : `vLLM ${runtime.version}`;
  if (runtime.kind === "simulator") return "simulator (no model)";
  return "unknown";
}

/** A load share's tone: the KV cache near full is the first sign a worker is at capacity. */
export function usageTone(fraction: number): Tone {
  if (fraction >= 0.9) return "danger";
  if (fraction >= 0.7) return "warn";
  return "ok";
}
