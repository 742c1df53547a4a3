/** Shared helpers for the limits tests: fresh limiter stubs and limit shorthands. */
import { env } from "cloudflare:test";
import type { Limits, KeyLimits } from "../../workers/limits/types.js";
import { limiterName } from "../../workers/limits/client.js";

export const UNLIMITED: Limits = { requestsPerMinute: null, tokensPerMinute: null, maxConcurrent: null, tokensPerDay: null };
export const LEASE_TTL_MS = 300_000;

let counter = 0;
/** A key id no other test uses, so each test gets fresh limiter objects. */
export function freshKeyId(label: string): string {
  counter += 1;
  return `test-${label}-${counter}-${crypto.randomUUID()}`;
}

export function limiterStub(keyId: string, endUser?: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(limiterName(keyId, endUser)));
}

export function keyLimits(key: Partial<Limits>, endUser: Partial<Limits> = {}): KeyLimits {
  return { ...UNLIMITED, ...key, endUser: { ...UNLIMITED, ...endUser } };
}
