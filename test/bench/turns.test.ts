import { describe, expect, it } from "vitest";
import { bucketAt, bucketEdges, bucketTurns, goalRatio, type TurnSample } from "../../bench/turns/analysis.js";
import { loadTurnsConfig } from "../../bench/turns/config.js";
import { mergeRun, turnsMarkdown, type TurnsRun } from "../../bench/turns/report.js";
import { prng, userMessage } from "../../bench/turns/text.js";

describe("bench:turns messages", () => {
  it("are the same for one seed and differ between seeds", () => {
    const a = prng(7);
    const b = prng(7);
    const c = prng(8);
    const first = userMessage(a, 4);
    expect(userMessage(b, 4)).toBe(first);
    expect(userMessage(c, 4)).not.toBe(first);
  });

  it("never repeat, not even a sentence, over a long run", () => {
    const r = prng(1);
    const messages = Array.from({ length: 2_000 }, () => userMessage(r, 3));
    expect(new Set(messages).size).toBe(messages.length);
    const sentences = messages.flatMap((m) => m.split(/(?<=[.?!]) /));
    // Sentences are drawn from a large space: a few coincidences at most, never a pattern.
    expect(new Set(sentences).size).toBeGreaterThan(sentences.length * 0.99);
  });

  it("read like prose: capitalised sentences ending in punctuation", () => {
    const r = prng(3);
    for (let i = 0; i < 50; i++) {
      for (const s of userMessage(r, 5).split(/(?<=[.?!]) /)) expect(s).toMatch(/^[A-Z][ a-z].*[a-z0-9][.?!]$/);
    }
  });
});

describe("bench:turns buckets", () => {
  it.each([
    [250, 1_000, [[0, 250], [250, 500], [500, 750], [750, 1_000]]],
    [250, 4_096, null], // checked below: 3,750–4,096 stays one bucket
    [1_000, 2_300, [[0, 1_000], [1_000, 2_300]]], // a 300-token sliver joins the bucket before
    [1_000, 2_600, [[0, 1_000], [1_000, 2_000], [2_000, 2_600]]],
    [500, 400, [[0, 400]]],
  ])("width %i over %i tokens", (width, context, expected) => {
    const edges = bucketEdges(width, context);
    if (expected) expect(edges).toEqual(expected);
    expect(edges[0]![0]).toBe(0);
    expect(edges[edges.length - 1]![1]).toBe(context);
    for (let i = 1; i < edges.length; i++) expect(edges[i]![0]).toBe(edges[i - 1]![1]);
  });

  it("rejects a width that is not a positive integer", () => {
    expect(() => bucketEdges(0, 100)).toThrow(RangeError);
    expect(() => bucketEdges(2.5, 100)).toThrow(RangeError);
  });

  const turn = (promptTokens: number, totalMs: number, workerdCpuMs: number | null = null): TurnSample => ({
    conversation: 0, turn: 1, promptTokens, droppedMessages: 0, totalMs, workerdCpuMs, simCpuMs: null,
  });

  it("puts each turn in the bucket of its prompt; the last bucket includes the window's end", () => {
    const buckets = bucketTurns([turn(0, 1), turn(249, 3), turn(250, 10), turn(4_096, 40)], bucketEdges(250, 4_096));
    expect(buckets.map((b) => [b.from, b.turns, b.totalMs.p50])).toEqual([[0, 2, 2], [250, 1, 10], [3_750, 1, 40]]);
    expect(bucketAt(buckets, 100)?.from).toBe(0);
    expect(bucketAt(buckets, 600)).toBeUndefined();
  });

  it("summarises CPU only over the turns that measured it", () => {
    const [bucket] = bucketTurns([turn(10, 1, 4), turn(20, 1, null), turn(30, 1, 8)], [[0, 100]]);
    expect(bucket!.workerdCpuMs.count).toBe(2);
    expect(bucket!.workerdCpuMs.mean).toBe(6);
    expect(bucket!.simCpuMs.count).toBe(0);
  });

  it("states the goal as the long bucket's p50 over the short one's", () => {
    const buckets = bucketTurns([turn(90, 10, 2), turn(110, 12, 4), turn(3_600, 15, 6), turn(3_700, 17, 6)], bucketEdges(250, 4_096));
    const ratio = goalRatio(buckets, 100, 3_500);
    expect(ratio.totalP50).toBeCloseTo(16 / 11);
    expect(ratio.workerdCpu).toBeCloseTo(2);
    expect(goalRatio(buckets, 100, 2_000).totalP50).toBeNaN();
  });
});

describe("bench:turns results", () => {
  const run = (label: string, p50: number): TurnsRun => {
    const buckets = bucketTurns([{ conversation: 0, turn: 1, promptTokens: 100, droppedMessages: 0, totalMs: p50, workerdCpuMs: 1, simCpuMs: 1 }], bucketEdges(250, 4_096));
    return {
      label, date: "2026-01-01T00:00:00.000Z", commit: "0123456789abcdef", dirty: false,
      config: loadTurnsConfig([], {}), machine: { cpus: 2, node: "20", loadStart: 0, loadEnd: 0 },
      durationS: 1, cpuMeasured: true, ratio: goalRatio(buckets, 100, 3_500), buckets, turns: [],
    };
  };

  it("keeps runs of other labels and replaces a run of the same label in place", () => {
    let results = mergeRun(null, run("before", 10));
    results = mergeRun(results, run("after", 5));
    results = mergeRun(results, run("before", 11));
    expect(results.runs.map((r) => [r.label, r.buckets[0]!.totalMs.p50])).toEqual([["before", 11], ["after", 5]]);
    const md = turnsMarkdown(results);
    expect(md).toContain("## Run `before`");
    expect(md).toContain("## Side by side");
  });

  it("reads its options from flags over the environment", () => {
    expect(loadTurnsConfig(["--label", "after", "--encode-cache", "default"], { TURNS_CONVERSATIONS: "3" })).toMatchObject({ label: "after", encodeCache: "default", conversations: 3 });
    expect(loadTurnsConfig([], {}).encodeCache).toBe(0);
    expect(() => loadTurnsConfig(["--min-sentences", "5", "--max-sentences", "2"], {})).toThrow(/max-sentences/);
  });
});
