import { describe, expect, it } from "vitest";
import type { Limits } from "../../workers/limits/types.js";
import { freshKeyId, LEASE_TTL_MS, limiterStub, UNLIMITED } from "./limits-helpers.js";

const N = 100;
const L = 7;
const TOKENS = 50;

/** Fires N admissions at one limiter at once and counts the admitted ones. */
async function burst(limits: Partial<Limits>): Promise<{ admitted: number; rejectedKinds: Set<string> }> {
  const stub = limiterStub(freshKeyId("burst"));
  const results = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      stub.admit({ requestId: `r${i}`, estimatedTokens: TOKENS, limits: { ...UNLIMITED, ...limits }, leaseTtlMs: LEASE_TTL_MS }),
    ),
  );
  const rejectedKinds = new Set(results.flatMap((r) => (r.ok ? [] : [r.rejection.kind])));
  return { admitted: results.filter((r) => r.ok).length, rejectedKinds };
}

// The measured exactness the issue asks for: admitted vs limit with 100 simultaneous requests.
describe(`exactness: ${N} simultaneous admissions against a limit of ${L}`, () => {
  it.each<[string, Partial<Limits>, string]>([
    ["requests per minute", { requestsPerMinute: L }, "requests_per_minute"],
    ["tokens per minute", { tokensPerMinute: L * TOKENS }, "tokens_per_minute"],
    ["max concurrent", { maxConcurrent: L }, "max_concurrent"],
    ["tokens per day", { tokensPerDay: L * TOKENS }, "tokens_per_day"],
  ])("%s admits exactly L", async (_name, limits, kind) => {
    const { admitted, rejectedKinds } = await burst(limits);
    expect(admitted).toBe(L);
    expect([...rejectedKinds]).toEqual([kind]);
  });
});
