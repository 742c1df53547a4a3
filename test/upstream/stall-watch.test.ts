import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { StallWatch } from "../../workers/upstream/stall-watch.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("StallWatch", () => {
  it("fires once a single wait on the worker reaches the stall time", () => {
    const onStall = vi.fn();
    const watch = new StallWatch(1_000, onStall);
    watch.waiting();
    vi.advanceTimersByTime(999);
    expect(onStall).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onStall).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(onStall).toHaveBeenCalledTimes(1);
  });

  it("never fires while reads keep completing, however long the stream lasts", () => {
    const onStall = vi.fn();
    const watch = new StallWatch(1_000, onStall);
    for (let i = 0; i < 100; i++) {
      watch.waiting();
      vi.advanceTimersByTime(600);
      watch.received();
    }
    expect(onStall).not.toHaveBeenCalled();
    watch.stop();
  });

  it("does not count time the caller spends between reads", () => {
    const onStall = vi.fn();
    const watch = new StallWatch(1_000, onStall);
    watch.waiting();
    vi.advanceTimersByTime(100);
    watch.received();
    // The relay is slow to hand the token on (e.g. a client under backpressure).
    vi.advanceTimersByTime(5_000);
    expect(onStall).not.toHaveBeenCalled();
    watch.waiting();
    vi.advanceTimersByTime(999);
    expect(onStall).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onStall).toHaveBeenCalledTimes(1);
  });

  it("arms one timer per stall period, not one per read", () => {
    const watch = new StallWatch(1_000, () => undefined);
    const spy = vi.spyOn(globalThis, "setTimeout");
    for (let i = 0; i < 50; i++) {
      watch.waiting();
      vi.advanceTimersByTime(10);
      watch.received();
    }
    expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
    watch.stop();
    spy.mockRestore();
  });

  it("stays quiet after stop", () => {
    const onStall = vi.fn();
    const watch = new StallWatch(1_000, onStall);
    watch.waiting();
    watch.stop();
    vi.advanceTimersByTime(5_000);
    expect(onStall).not.toHaveBeenCalled();
  });
});
