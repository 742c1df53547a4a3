/**
 * Gateway-side admission: asks the end user's limiter (when the request names a `user` with any
 * limit) and then the key's limiter. Critical path: one Durable Object RPC before the GPU, two
 * when an end user is present. The end user goes first so that a request refused by its user's
 * limit never holds (even briefly) a slot of the shared key, where it could crowd out other users.
 * If the key then refuses, the end user's reservation is released, so nothing leaks. After the
 * answer, settlements wait briefly to ride on the next admission to the same object
 * (settle-batching.ts), so a request costs one limiter commit rather than two.
 */
import type { Env } from "../env.js";
import type { GatewayError } from "../errors.js";
import { getLimitsConfig } from "./config.js";
import { SettleQueue } from "./settle-batching.js";
import { rateLimitHeaders } from "./headers.js";
import { limiterUnavailableError, rejectionError, type Scope } from "./rejection.js";
import type { AdmitResult, KeyLimits, Limits, UsageEntry, UsageSnapshot } from "./types.js";
import { combineSnapshots } from "./window-math.js";

/** The outcome of admission: headers for the response and a settle hook, or the error to send. */
export type Admission =
  | {
      ok: true;
      headers: Record<string, string>;
      /** Settles to real usage; `usage` (stateless completions) is buffered for the ledger by the key's limiter. */
      settle(actualTokens: number, usage?: UsageEntry): Promise<void>;
    }
  | { ok: false; error: GatewayError };

export interface AdmitRequestInput {
  keyId: string;
  /** The request's `user` (end user of a bot key); null/undefined for none. */
  endUser?: string | null;
  limits: KeyLimits;
  /** Prompt tokens + max_tokens. */
  estimatedTokens: number;
  requestId: string;
  /** Injectable clock for tests; production omits it (each limiter uses its own clock). */
  now?: number;
  /** Overrides LIMIT_LEASE_TTL_SECONDS (tests). */
  leaseTtlMs?: number;
}

/** Durable Object name of a key's limiter, or of one end user's limiter under that key. */
export function limiterName(keyId: string, endUser?: string | null): string {
  return endUser ? `key:${keyId}:user:${endUser}` : `key:${keyId}`;
}

/** This isolate's settlements waiting to ride on an admission (settle-batching.ts). */
const settleQueue = new SettleQueue();

const ID_CACHE_MAX = 10_000;
const limiterIds = new WeakMap<Env["RATE_LIMITER"], Map<string, DurableObjectId>>();

/**
 * The limiter object of `name`. Its id is derived by hashing the name, the same every time, so
 * an isolate keeps the ids it has derived (bounded) instead of hashing on every call.
 */
export function limiterStub(env: Env, name: string): DurableObjectStub<import("./rate-limiter-do.js").RateLimiter> {
  let ids = limiterIds.get(env.RATE_LIMITER);
  if (ids === undefined) limiterIds.set(env.RATE_LIMITER, (ids = new Map()));
  let id = ids.get(name);
  if (id === undefined) {
    if (ids.size >= ID_CACHE_MAX) ids.delete(ids.keys().next().value!);
    id = env.RATE_LIMITER.idFromName(name);
    ids.set(name, id);
  }
  return env.RATE_LIMITER.get(id);
}

function isUnlimited(l: Limits): boolean {
  return l.requestsPerMinute === null && l.tokensPerMinute === null && l.maxConcurrent === null && l.tokensPerDay === null;
}

interface Held {
  scope: Scope;
  name: string;
  stub: DurableObjectStub<import("./rate-limiter-do.js").RateLimiter>;
  leaseId: string;
  usage: UsageSnapshot;
}

type Step = { ok: true; held: Held | null } | { ok: false; error: GatewayError };

async function admitScope(env: Env, input: AdmitRequestInput, scope: Scope, limits: Limits, leaseTtlMs: number): Promise<Step> {
  // An all-unlimited scope has nothing to enforce: skip its round trip.
  if (isUnlimited(limits)) return { ok: true, held: null };
  let result: AdmitResult;
  const name = limiterName(input.keyId, scope === "end_user" ? input.endUser : null);
  const stub = limiterStub(env, name);
  const carried = settleQueue.carry(name);
  try {
    result = await stub.admit({
      requestId: input.requestId,
      estimatedTokens: Math.max(0, Math.ceil(input.estimatedTokens)),
      limits,
      leaseTtlMs,
      ...(input.now === undefined ? {} : { now: input.now }),
      ...(carried.settles.length > 0 ? { settles: carried.settles } : {}),
    });
    carried.done(true);
  } catch (err) {
    carried.done(false);
    // Fail closed: admitting without the limiter would silently bypass the quota.
    console.error("rate limiter unreachable", { scope, error: String(err) });
    return { ok: false, error: limiterUnavailableError() };
  }
  if (!result.ok) return { ok: false, error: rejectionError({ ...result, scope }) };
  return { ok: true, held: { scope, name, stub, leaseId: result.leaseId, usage: result.usage } };
}

async function releaseQuietly(held: Held | null): Promise<void> {
  if (!held) return;
  try {
    await held.stub.release({ leaseId: held.leaseId });
  } catch (err) {
    // The lease still expires by itself; the estimate stays charged until then.
    console.error("rate limiter release failed", { error: String(err) });
  }
}

/** Admits a request against the end user's and the key's limits, or returns the 429/503 to send. */
export async function admitRequest(env: Env, input: AdmitRequestInput): Promise<Admission> {
  const leaseTtlMs = input.leaseTtlMs ?? getLimitsConfig(env).leaseTtlMs;
  const user = input.endUser ? await admitScope(env, input, "end_user", input.limits.endUser, leaseTtlMs) : ({ ok: true, held: null } as const);
  if (!user.ok) return user;
  const key = await admitScope(env, input, "key", input.limits, leaseTtlMs);
  if (!key.ok) {
    await releaseQuietly(user.held);
    return key;
  }
  const held = [user.held, key.held].filter((h): h is Held => h !== null);
  const headers = rateLimitHeaders(combineSnapshots(held.map((h) => h.usage)));
  let settling: Promise<void> | null = null;
  return {
    ok: true,
    headers,
    settle(actualTokens: number, usage?: UsageEntry): Promise<void> {
      // Settling twice does nothing: the first call's promise is returned again.
      settling ??= settleAll(env, input.keyId, held, Math.max(0, Math.round(actualTokens)), usage);
      return settling;
    },
  };
}

/**
 * Has the key's limiter write its buffered usage to the ledger, with the settlements this isolate
 * still holds for it, so a read that follows sees the caller's finished requests. A failure is
 * logged: the read is then at most USAGE_FLUSH_INTERVAL_MS stale.
 */
export async function flushKeyUsage(env: Env, keyId: string): Promise<void> {
  const name = limiterName(keyId);
  const carried = settleQueue.carry(name);
  try {
    await limiterStub(env, name).flushUsage(carried.settles);
    carried.done(true);
  } catch (err) {
    carried.done(false);
    console.error("could not flush buffered usage before reading it", { keyId, error: String(err) });
  }
}

/**
 * The x-ratelimit-* headers for a response that admits nothing (reading a conversation, listing
 * models, a request refused before admission): the same view an admission reports, without
 * charging. Empty when no limit applies or a limiter cannot be reached, since nothing is admitted.
 */
export async function peekRateLimitHeaders(env: Env, input: { keyId: string; endUser?: string | null; limits: KeyLimits }): Promise<Record<string, string>> {
  const scopes: { name: string; limits: Limits }[] = [{ name: limiterName(input.keyId), limits: input.limits }];
  if (input.endUser) scopes.push({ name: limiterName(input.keyId, input.endUser), limits: input.limits.endUser });
  const limited = scopes.filter((s) => !isUnlimited(s.limits));
  if (limited.length === 0) return {};
  try {
    const snapshots = await Promise.all(
      limited.map((s) => limiterStub(env, s.name).peek({ limits: s.limits })),
    );
    return rateLimitHeaders(combineSnapshots(snapshots));
  } catch (err) {
    console.error("rate limiter unreachable for headers", { error: String(err) });
    return {};
  }
}

async function settleAll(env: Env, keyId: string, held: Held[], actualTokens: number, usage: UsageEntry | undefined): Promise<void> {
  const calls = held.map((h) =>
    // The key's limiter keeps the key's usage ledger, so the entry travels with its settlement.
    settleQueue.settle(h.name, { leaseId: h.leaseId, actualTokens, ...(usage && h.scope === "key" ? { usage } : {}) }, (settles) =>
      limiterStub(env, h.name).settleMany(settles),
    ),
  );
  if (usage && !held.some((h) => h.scope === "key")) {
    // An unlimited key was never admitted by its limiter, which still keeps its ledger.
    calls.push(
      limiterStub(env, limiterName(keyId))
        .recordUsage(usage)
        .catch((err: unknown) => console.error("could not buffer usage", { error: String(err) })),
    );
  }
  await Promise.all(calls);
}
