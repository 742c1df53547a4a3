import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SETTLE_DELAY_MS, SettleQueue } from "../../workers/limits/settle-batching.js";
import type { SettleInput } from "../../workers/limits/types.js";

const input = (leaseId: string): SettleInput => ({ leaseId, actualTokens: 1 });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("SettleQueue", () => {
  it("an admission within the delay carries every waiting settlement of its limiter, and nothing is sent twice", async () => {
    const q = new SettleQueue();
    const send = vi.fn(async () => undefined);
    const a = q.settle("key:k", input("a"), send);
    const b = q.settle("key:k", input("b"), send);
    const other = q.settle("key:other", input("c"), send);
    const carried = q.carry("key:k");
    expect(carried.settles.map((s) => s.leaseId)).toEqual(["a", "b"]);
    carried.done(true);
    await vi.advanceTimersByTimeAsync(SETTLE_DELAY_MS);
    await Promise.all([a, b, other]);
    // Only the limiter no admission visited got a send of its own.
    expect(send).toHaveBeenCalledTimes(1);
    expect(send).toHaveBeenCalledWith([input("c")]);
  });

  it("a settlement no admission carries is sent after the delay, together with the others waiting", async () => {
    const q = new SettleQueue();
    const send = vi.fn(async () => undefined);
    const a = q.settle("key:k", input("a"), send);
    const b = q.settle("key:k", input("b"), send);
    await vi.advanceTimersByTimeAsync(SETTLE_DELAY_MS);
    await Promise.all([a, b]);
    expect(send).toHaveBeenCalledTimes(1);
    expect(send).toHaveBeenCalledWith([input("a"), input("b")]);
  });

  it("a settlement carried by an admission that failed goes back in line and is sent by its own request", async () => {
    const q = new SettleQueue();
    const send = vi.fn(async () => undefined);
    const a = q.settle("key:k", input("a"), send);
    const carried = q.carry("key:k");
    carried.done(false);
    await vi.advanceTimersByTimeAsync(SETTLE_DELAY_MS);
    await a;
    expect(send).toHaveBeenCalledWith([input("a")]);
  });

  it("waits while an admission carries it, and resolves once that admission reached the limiter", async () => {
    const q = new SettleQueue();
    const send = vi.fn(async () => undefined);
    let resolved = false;
    const a = q.settle("key:k", input("a"), send).then(() => (resolved = true));
    const carried = q.carry("key:k");
    await vi.advanceTimersByTimeAsync(SETTLE_DELAY_MS * 3);
    expect(resolved).toBe(false);
    carried.done(true);
    await vi.advanceTimersByTimeAsync(SETTLE_DELAY_MS);
    await a;
    expect(resolved).toBe(true);
    expect(send).not.toHaveBeenCalled();
  });

  it("a carrier that never reports back does not hold a settlement forever: it is sent again (settling is idempotent)", async () => {
    const q = new SettleQueue();
    const send = vi.fn(async () => undefined);
    const a = q.settle("key:k", input("a"), send);
    q.carry("key:k");
    await vi.advanceTimersByTimeAsync(1_100);
    await a;
    expect(send).toHaveBeenCalledWith([input("a")]);
  });

  it("never rejects: a limiter that cannot be reached is tried a few times, then the lease's expiry is the backstop", async () => {
    const q = new SettleQueue();
    const send = vi.fn(async () => Promise.reject(new Error("down")));
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const a = q.settle("key:k", input("a"), send);
    // Tried for about 11 s (a limiter outage of a few seconds must not leak the slot), then given up.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(send.mock.calls.length).toBeLessThan(10);
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(a).resolves.toBeUndefined();
    expect(send).toHaveBeenCalledTimes(10);
    errors.mockRestore();
  });
});
