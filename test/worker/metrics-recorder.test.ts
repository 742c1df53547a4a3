/** The per-isolate buffer: at most one send per interval, every count sent exactly once, nothing lost on a failed send. */
import { describe, expect, it, vi } from "vitest";
import { MetricsRecorder, type FlushSink } from "../../workers/metrics/recorder.js";
import { emptyTotals, mergeTotalsInto, type Totals } from "../../workers/metrics/totals.js";

const INTERVAL_MS = 1_000;
const done = { status: "complete" as const, failovers: 0, promptTokens: 10, completionTokens: 5, timeToFirstTokenMs: 50 };

/** A clock that only moves when told; sleeps wake as it passes them. */
function fakeTime() {
  let now = 0;
  const sleepers: Array<{ at: number; wake: () => void }> = [];
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((wake) => sleepers.push({ at: now + ms, wake })),
    async advance(ms: number) {
      now += ms;
      for (const sleeper of sleepers.filter((s) => s.at <= now)) {
        sleepers.splice(sleepers.indexOf(sleeper), 1);
        sleeper.wake();
      }
      await settle();
    },
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function recordingSink() {
  const sent: Totals[] = [];
  const sink: FlushSink = async (delta) => {
    sent.push(delta);
  };
  const total = () => {
    const sum = emptyTotals();
    for (const delta of sent) mergeTotalsInto(sum, delta);
    return sum;
  };
  return { sent, sink, total };
}

function setup() {
  const time = fakeTime();
  const recorder = new MetricsRecorder({ flushIntervalMs: INTERVAL_MS, now: time.now, sleep: time.sleep });
  return { time, recorder };
}

describe("MetricsRecorder", () => {
  it("sends the first record at once", async () => {
    const { recorder } = setup();
    const { sent, sink } = recordingSink();
    await recorder.recordGeneration("m", done, sink);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.models.m?.requests.complete).toBe(1);
  });

  it("gathers records within an interval into one send at the end of it", async () => {
    const { time, recorder } = setup();
    const { sent, sink, total } = recordingSink();
    await recorder.recordGeneration("m", done, sink);
    const scheduled = recorder.recordGeneration("m", done, sink);
    void recorder.recordGeneration("m", { ...done, status: "failed" }, sink);
    recorder.recordRefusal("overloaded", sink);
    await time.advance(INTERVAL_MS - 1);
    expect(sent).toHaveLength(1);
    await time.advance(1);
    await scheduled;
    expect(sent).toHaveLength(2);
    expect(sent[1]?.models.m?.requests).toEqual({ complete: 1, length: 0, cancelled: 0, failed: 1 });
    expect(sent[1]?.refused).toEqual({ overloaded: 1 });
    expect(total().models.m?.requests.complete).toBe(2);
  });

  it("keeps the counts of a failed send for the next one", async () => {
    const { time, recorder } = setup();
    const sent: Totals[] = [];
    const failOnce = vi.fn<FlushSink>().mockRejectedValueOnce(new Error("object unavailable")).mockImplementation(async (d) => {
      sent.push(d);
    });
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    await recorder.recordGeneration("m", done, failOnce);
    expect(sent).toHaveLength(0);
    const next = recorder.recordGeneration("m", done, failOnce);
    await time.advance(INTERVAL_MS);
    await next;
    expect(sent).toHaveLength(1);
    expect(sent[0]?.models.m?.requests.complete).toBe(2);
    vi.restoreAllMocks();
  });

  it("does not lose a record made while a send is in flight", async () => {
    const { time, recorder } = setup();
    const sent: Totals[] = [];
    let release!: () => void;
    const slowSink: FlushSink = async (delta) => {
      sent.push(delta);
      await new Promise<void>((r) => (release = r));
    };
    const first = recorder.recordGeneration("m", done, slowSink);
    await settle();
    expect(sent).toHaveLength(1);
    const second = recorder.recordGeneration("m", { ...done, status: "cancelled" }, slowSink);
    release();
    await first;
    await time.advance(INTERVAL_MS);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.models.m?.requests.cancelled).toBe(1);
    release();
    await second;
  });

  it("hands its buffer to a reader, and takes it back after a failed read", () => {
    const { recorder } = setup();
    expect(recorder.take()).toBeNull();
    const never: FlushSink = () => new Promise(() => undefined);
    void recorder.recordGeneration("m", done, never);
    const taken = recorder.take();
    expect(taken?.models.m?.requests.complete).toBe(1);
    expect(recorder.take()).toBeNull();
    recorder.restore(taken!);
    expect(recorder.take()?.models.m?.requests.complete).toBe(1);
  });
});
