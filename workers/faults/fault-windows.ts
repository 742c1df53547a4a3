/**
 * Test-only fault injection (FAULT_INJECTION = "on", never set in a deployment): which faults are
 * open and until when. Pure: the caller passes the clock. Used by the soak benchmark's fault
 * matrix and the fault-injection end-to-end test to make the gateway's D1 or its limiter object
 * fail for a few seconds, as a D1 outage or an unreachable Durable Object would.
 */

/** What can be made to fail: the gateway's D1 calls, or its calls to the rate limiter object. */
export const FAULT_TARGETS = ["d1", "limiter"] as const;
export type FaultTarget = (typeof FAULT_TARGETS)[number];

/** The longest one injected fault may last, so a forgotten one ends by itself. */
export const MAX_FAULT_MS = 120_000;

/** Until when (epoch ms) each target fails; 0 = not failing. */
export type FaultWindows = Readonly<Record<FaultTarget, number>>;

export const NO_FAULTS: FaultWindows = { d1: 0, limiter: 0 };

/** The windows with `target` failing from `now` for `durationMs` (capped at MAX_FAULT_MS). */
export function openFault(windows: FaultWindows, target: FaultTarget, now: number, durationMs: number): FaultWindows {
  const ms = Math.min(MAX_FAULT_MS, Math.max(0, Math.floor(durationMs)));
  return { ...windows, [target]: ms === 0 ? 0 : now + ms };
}

/** Whether `target` fails at `now`. */
export function isFaultOpen(windows: FaultWindows, target: FaultTarget, now: number): boolean {
  return now < windows[target];
}

/** Milliseconds each target still fails at `now` (0 when it does not). */
export function remainingFaultMs(windows: FaultWindows, now: number): Record<FaultTarget, number> {
  return { d1: Math.max(0, windows.d1 - now), limiter: Math.max(0, windows.limiter - now) };
}

/**
 * Whether a URL's host is this machine's loopback: faults are only injected through a request that
 * reached the gateway on loopback, so even a deployment with the var set by mistake cannot be
 * made to fail from outside.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** FAULT_INJECTION's one "on" value; anything else (the default "") is off. */
export function isFaultInjectionOn(value: string | undefined): boolean {
  return value === "on";
}
