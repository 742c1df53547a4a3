/**
 * Limit defaults from wrangler vars, parsed once per env object, and the per-key override shape the
 * admin API accepts. A key's effective limits = configured defaults, overridden field by field by
 * the key's stored JSON (null in the override = unlimited, absent = default).
 */
import { z } from "zod";
import type { Env } from "../env.js";
import { intVar, oncePerEnv, parseVars } from "../vars.js";
import type { KeyLimits, Limits } from "./types.js";

/** Largest accepted limit value; keeps arithmetic far from float precision loss. */
const MAX_LIMIT_VALUE = 1_000_000_000_000;

const LimitValue = z.number().int().min(0).max(MAX_LIMIT_VALUE).nullable();

const ScopeBody = z
  .object({
    requests_per_minute: LimitValue.optional(),
    tokens_per_minute: LimitValue.optional(),
    max_concurrent: LimitValue.optional(),
    tokens_per_day: LimitValue.optional(),
  })
  .strict();

/**
 * The admin API's `limits` object: {requests_per_minute, tokens_per_minute, max_concurrent,
 * tokens_per_day, end_user: {the same four}}. Every field optional (absent = default), null = unlimited.
 */
export const LimitsBody = ScopeBody.extend({ end_user: ScopeBody.optional() }).strict();
export type LimitsBody = z.infer<typeof LimitsBody>;
type ScopeBody = z.infer<typeof ScopeBody>;

/** "unlimited" → null; absent or "" → the built-in default; otherwise a non-negative integer. */
const LimitVar = (fallback: number | null) =>
  z.union([z.string(), z.number()]).optional().transform((v, ctx): number | null => {
    if (v === undefined || v === "") return fallback;
    if (typeof v === "string" && v.trim().toLowerCase() === "unlimited") return null;
    const n = typeof v === "number" ? v : Number(v);
    if (!Number.isInteger(n) || n < 0 || n > MAX_LIMIT_VALUE) {
      ctx.addIssue({ code: "custom", message: 'must be a non-negative integer or "unlimited"' });
      return z.NEVER;
    }
    return n;
  });

// Built-in defaults match wrangler.toml; they apply only when a var is absent.
const LimitsConfigSchema = z.object({
  LIMIT_REQUESTS_PER_MINUTE: LimitVar(600),
  LIMIT_TOKENS_PER_MINUTE: LimitVar(200_000),
  LIMIT_MAX_CONCURRENT: LimitVar(32),
  LIMIT_TOKENS_PER_DAY: LimitVar(5_000_000),
  END_USER_LIMIT_REQUESTS_PER_MINUTE: LimitVar(20),
  END_USER_LIMIT_TOKENS_PER_MINUTE: LimitVar(20_000),
  END_USER_LIMIT_MAX_CONCURRENT: LimitVar(2),
  END_USER_LIMIT_TOKENS_PER_DAY: LimitVar(200_000),
  /** A concurrency lease (and its token reservation) lapses this long after admission. */
  LIMIT_LEASE_TTL_SECONDS: intVar(300, 1),
  /** How long a key's limiter buffers the usage of stateless completions before writing it to D1. */
  USAGE_FLUSH_INTERVAL_MS: intVar(5_000, 1),
});

/** The parsed limits configuration. */
export interface LimitsConfig {
  defaults: KeyLimits;
  leaseTtlMs: number;
  usageFlushIntervalMs: number;
}

/** Parses the limit vars once per env object; throws a readable error on a bad value. */
export const getLimitsConfig = oncePerEnv((env: Env): LimitsConfig => {
  const v = parseVars(LimitsConfigSchema, env, "limits configuration");
  return {
    defaults: {
      requestsPerMinute: v.LIMIT_REQUESTS_PER_MINUTE,
      tokensPerMinute: v.LIMIT_TOKENS_PER_MINUTE,
      maxConcurrent: v.LIMIT_MAX_CONCURRENT,
      tokensPerDay: v.LIMIT_TOKENS_PER_DAY,
      endUser: {
        requestsPerMinute: v.END_USER_LIMIT_REQUESTS_PER_MINUTE,
        tokensPerMinute: v.END_USER_LIMIT_TOKENS_PER_MINUTE,
        maxConcurrent: v.END_USER_LIMIT_MAX_CONCURRENT,
        tokensPerDay: v.END_USER_LIMIT_TOKENS_PER_DAY,
      },
    },
    leaseTtlMs: v.LIMIT_LEASE_TTL_SECONDS * 1000,
    usageFlushIntervalMs: v.USAGE_FLUSH_INTERVAL_MS,
  };
});

function mergeScope(defaults: Limits, override: ScopeBody | undefined): Limits {
  if (!override) return { ...defaults };
  const pick = (value: number | null | undefined, fallback: number | null) => (value === undefined ? fallback : value);
  return {
    requestsPerMinute: pick(override.requests_per_minute, defaults.requestsPerMinute),
    tokensPerMinute: pick(override.tokens_per_minute, defaults.tokensPerMinute),
    maxConcurrent: pick(override.max_concurrent, defaults.maxConcurrent),
    tokensPerDay: pick(override.tokens_per_day, defaults.tokensPerDay),
  };
}

/** Parses a key's stored override JSON (null = none). Throws on corrupt JSON: failing closed beats silently widening a stricter override. */
export function parseStoredLimits(storedOverrideJson: string | null): LimitsBody {
  if (storedOverrideJson === null || storedOverrideJson === "") return {};
  let raw: unknown;
  try {
    raw = JSON.parse(storedOverrideJson);
  } catch {
    throw new Error("Stored key limits are not valid JSON");
  }
  const parsed = LimitsBody.safeParse(raw);
  if (!parsed.success) throw new Error(`Stored key limits are invalid: ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")}`);
  return parsed.data;
}

/** Defaults from config vars merged with a key's stored override JSON. */
export function effectiveLimits(env: Env, storedOverrideJson: string | null): KeyLimits {
  return mergeLimits(getLimitsConfig(env).defaults, parseStoredLimits(storedOverrideJson));
}

/** Pure merge of defaults and an override (exported for tests and the admin view). */
export function mergeLimits(defaults: KeyLimits, override: LimitsBody): KeyLimits {
  return { ...mergeScope(defaults, override), endUser: mergeScope(defaults.endUser, override.end_user) };
}

/** Applies a PATCH's `limits` onto the stored override and returns the JSON to store (null when empty). */
export function patchStoredLimits(storedOverrideJson: string | null, patch: LimitsBody): string | null {
  const current = parseStoredLimits(storedOverrideJson);
  const endUser = patch.end_user === undefined ? current.end_user : { ...current.end_user, ...patch.end_user };
  const { end_user: _ignored, ...patchTop } = patch;
  const merged: LimitsBody = { ...current, ...patchTop, ...(endUser === undefined ? {} : { end_user: endUser }) };
  return Object.keys(merged).length === 0 ? null : JSON.stringify(merged);
}

/** The admin API shape of effective limits (for GET /admin/keys responses). */
export function limitsToBody(limits: KeyLimits): Required<Omit<LimitsBody, "end_user">> & { end_user: Required<ScopeBody> } {
  const scope = (l: Limits): Required<ScopeBody> => ({
    requests_per_minute: l.requestsPerMinute,
    tokens_per_minute: l.tokensPerMinute,
    max_concurrent: l.maxConcurrent,
    tokens_per_day: l.tokensPerDay,
  });
  return { ...scope(limits), end_user: scope(limits.endUser) };
}
