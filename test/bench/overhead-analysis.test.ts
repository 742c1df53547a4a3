import { describe, expect, it } from "vitest";
import { meanSplit, overheads, splitAtUpstream, summarizeCell, type CellResult, type TraceEvent } from "../../bench/overhead/analysis.js";
import { loadOverheadConfig } from "../../bench/overhead/config.js";
import { answerProblem, hasFirstToken } from "../../bench/overhead/sse-scan.js";

const sample = (firstTokenMs: number, totalMs: number) => ({ headersMs: 1, firstByteMs: 1, firstTokenMs, totalMs });

describe("first token in a chat stream", () => {
  it.each([
    ['data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n', false],
    ['data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\ndata: {"choices":[{"delta":{"content":" Hi"}}]}', true],
    ['data: {"choices":[{"delta":{"content":"\\n"}}]}', true],
    ["", false],
  ])("%j -> %s", (text, expected) => {
    expect(hasFirstToken(text)).toBe(expected);
  });
});

describe("answer check", () => {
  it.each([
    [{ stream: false, body: '{"choices":[{"message":{"content":"Hello"}}]}' }, null],
    [{ stream: false, body: '{"choices":[{"message":{"content":""}}]}' }, "no choices[0].message.content"],
    [{ stream: false, body: "<html>" }, "body is not JSON"],
    [{ stream: true, body: 'data: {"delta":{"content":"x"}}\n\ndata: [DONE]\n\n' }, null],
    [{ stream: true, body: 'data: {"delta":{"content":"x"}}\n\n' }, "stream did not end with [DONE]"],
    [{ stream: true, body: "data: [DONE]\n\n" }, "stream had no content"],
  ])("%j -> %s", (input, expected) => {
    expect(answerProblem(input)).toBe(expected);
  });
});

describe("cell summary and overheads", () => {
  const cell = (path: CellResult["path"], ttft: number[], total: number[]): CellResult =>
    summarizeCell({ path, concurrency: 16, stream: true }, { samples: ttft.map((t, i) => sample(t, total[i]!)), errors: 0, errorExamples: [], windowMs: 2_000 });

  it("uses time to first token for streams and counts throughput over the window", () => {
    const c = cell("direct", [1, 2, 3], [10, 20, 30]);
    expect(c.ttftMs.p50).toBe(2);
    expect(c.totalMs.p50).toBe(20);
    expect(c.throughputRps).toBe(1.5);
  });

  it("compares medians and p99s of the two paths, absolute and as a ratio", () => {
    const cells = [cell("bare-miniflare", [2, 2, 2], [10, 10, 10]), cell("altiplano-miniflare", [5, 5, 5], [15, 15, 15])];
    const [o] = overheads(cells, { path: "altiplano-miniflare", baseline: "bare-miniflare" });
    expect(o?.ttftP50).toEqual({ ms: 3, ratio: 2.5 });
    expect(o?.totalP99).toEqual({ ms: 5, ratio: 1.5 });
  });

  it("skips cells the baseline does not have", () => {
    expect(overheads([cell("portkey", [1], [1])], { path: "portkey", baseline: "direct" })).toEqual([]);
  });
});

describe("binding calls split at the GPU call", () => {
  const ev = (kind: TraceEvent["kind"], name = ""): TraceEvent => ({ kind, name });

  it.each([
    {
      name: "conversation turn",
      events: [ev("d1", "batch"), ev("do", "RATE_LIMITER.admit"), ev("upstream"), ev("do", "RATE_LIMITER.settle"), ev("d1", "batch")],
      expected: { d1Before: 1, d1After: 1, doBefore: { "RATE_LIMITER.admit": 1 }, doAfter: { "RATE_LIMITER.settle": 1 }, upstream: 1 },
    },
    {
      name: "failover: the second upstream call is still 'after'",
      events: [ev("do", "POOL.snapshot"), ev("upstream"), ev("upstream"), ev("d1", "batch")],
      expected: { d1Before: 0, d1After: 1, doBefore: { "POOL.snapshot": 1 }, doAfter: {}, upstream: 2 },
    },
    { name: "refused before the GPU", events: [ev("do", "RATE_LIMITER.admit")], expected: { d1Before: 0, d1After: 0, doBefore: { "RATE_LIMITER.admit": 1 }, doAfter: {}, upstream: 0 } },
  ])("$name", ({ events, expected }) => {
    expect(splitAtUpstream(events)).toEqual(expected);
  });

  it("averages, so a call made by one request in five counts 0.2", () => {
    const plain = splitAtUpstream([ev("upstream"), ev("d1")]);
    const withSnapshot = splitAtUpstream([ev("do", "POOL.snapshot"), ev("upstream"), ev("d1")]);
    const mean = meanSplit([plain, plain, plain, plain, withSnapshot]);
    expect(mean.doBefore["POOL.snapshot"]).toBeCloseTo(0.2);
    expect(mean.d1After).toBeCloseTo(1);
  });
});

describe("overhead config", () => {
  it("parses flags over env over defaults", () => {
    const c = loadOverheadConfig(["--concurrency", "1,8", "--paths=direct,portkey"], { OVERHEAD_DURATION_MS: "1500", OVERHEAD_CONCURRENCY: "4" });
    expect(c).toMatchObject({ concurrency: [1, 8], paths: ["direct", "portkey"], durationMs: 1500, maxTokens: 32 });
  });

  it.each([
    [["--paths", "nginx"]],
    [["--duration-ms", "10"]],
    [["--bogus", "1"]],
    [["--concurrency"]],
  ])("rejects %j with a readable message", (argv) => {
    expect(() => loadOverheadConfig(argv, {})).toThrow(/--/);
  });
});
