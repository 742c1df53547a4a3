/**
 * The pool's settings, read once from the Worker's vars (wrangler.toml `[vars]`) with zod. Every
 * value has a default so a missing var never breaks the pool; a malformed one fails loudly.
 */
import { z } from "zod";
import { intVar, parseVars } from "../vars.js";

const numberFromString = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === "") return fallback;
      const value = Number(raw);
      if (!Number.isFinite(value) || value <= min || value > max) {
        ctx.addIssue({ code: "custom", message: `expected a number in (${min}, ${max}], got ${JSON.stringify(raw)}` });
        return z.NEVER;
      }
      return value;
    });

/** Comma- or whitespace-separated URL patterns; empty means every URL may join. */
const patternList = z
  .string()
  .optional()
  .transform((raw) => (raw ?? "").split(/[\s,]+/).filter((pattern) => pattern.length > 0));

const PoolVars = z.object({
  /** How often agents heartbeat; missed-beat and expiry windows are multiples of it. */
  POOL_HEARTBEAT_INTERVAL_MS: intVar(1_000, 100),
  /** Worker URLs allowed to join (`*` glob, or a plain prefix). Empty: any URL. */
  POOL_ALLOWED_URLS: patternList,
  /** Consecutive failures (reported by gateway isolates) that open a worker's circuit breaker. */
  POOL_BREAKER_FAILURES: intVar(3, 1),
  /** First cooldown after the breaker opens; doubles on each re-trip, up to 8x. */
  POOL_BREAKER_COOLDOWN_MS: intVar(10_000, 0),
  /** Concurrent sequences (running + waiting) one worker should carry, for the replica formula. */
  POOL_TARGET_CONCURRENCY: intVar(16, 1),
  /** KV-cache usage (0..1) one worker should sit at, for the replica formula. */
  POOL_TARGET_KV_USAGE: numberFromString(0.8, 0, 1),
  /** Bounds of the desired-replica recommendation per model. */
  POOL_MIN_REPLICAS: intVar(1, 0),
  POOL_MAX_REPLICAS: intVar(32, 1),
});

/** Settings the pool Durable Object, the heartbeat route and the admin routes share. */
export interface PoolConfig {
  heartbeatIntervalMs: number;
  allowedUrlPatterns: string[];
  breakerFailureThreshold: number;
  breakerCooldownMs: number;
  targetConcurrencyPerWorker: number;
  targetKvUsage: number;
  minReplicas: number;
  maxReplicas: number;
}

/** The subset of the Worker's vars the pool reads. */
export type PoolVarsInput = Partial<Record<keyof z.input<typeof PoolVars>, string>>;

/** Parses the pool's vars; throws an Error naming the bad var. */
export function parsePoolConfig(vars: PoolVarsInput): PoolConfig {
  const v = parseVars(PoolVars, vars, "pool configuration");
  if (v.POOL_MAX_REPLICAS < v.POOL_MIN_REPLICAS) {
    throw new Error("Invalid pool configuration: POOL_MAX_REPLICAS must be >= POOL_MIN_REPLICAS");
  }
  return {
    heartbeatIntervalMs: v.POOL_HEARTBEAT_INTERVAL_MS,
    allowedUrlPatterns: v.POOL_ALLOWED_URLS,
    breakerFailureThreshold: v.POOL_BREAKER_FAILURES,
    breakerCooldownMs: v.POOL_BREAKER_COOLDOWN_MS,
    targetConcurrencyPerWorker: v.POOL_TARGET_CONCURRENCY,
    targetKvUsage: v.POOL_TARGET_KV_USAGE,
    minReplicas: v.POOL_MIN_REPLICAS,
    maxReplicas: v.POOL_MAX_REPLICAS,
  };
}
