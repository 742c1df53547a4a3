/**
 * The bot's fixed-memory counters: the histogram's buckets and quantiles, and the Prometheus text
 * /metrics serves. Pure, by tables.
 */
import { describe, expect, it } from "vitest";
import { GatewayCallError } from "../../discord/gateway-error.js";
import { FixedHistogram, mergeHistograms, quantileUpperBound } from "../../bot/histogram.js";
import { BotMetrics, renderPrometheus } from "../../bot/metrics.js";

describe("FixedHistogram", () => {
  it.each([
    { values: [], counts: [0, 0, 0, 0], sum: 0 },
    { values: [0.5], counts: [1, 0, 0, 0], sum: 0.5 },
    // A value equal to a bound belongs to that bound's bucket (Prometheus' `le`).
    { values: [1], counts: [1, 0, 0, 0], sum: 1 },
    { values: [1.0001, 2, 4.9], counts: [0, 2, 1, 0], sum: 7.9001 },
    { values: [6, 1e9, -3], counts: [1, 0, 0, 2], sum: 1e9 + 3 },
    { values: [NaN, 1], counts: [1, 0, 0, 0], sum: 1 },
  ])("buckets $values", ({ values, counts, sum }) => {
    const h = new FixedHistogram([1, 2, 5]);
    for (const v of values) h.observe(v);
    const s = h.snapshot();
    expect(s.counts).toEqual(counts);
    expect(s.count).toBe(counts.reduce((a, b) => a + b, 0));
    expect(s.sum).toBeCloseTo(sum);
  });

  it("keeps the same memory however many values it sees", () => {
    const h = new FixedHistogram([1, 2, 5]);
    for (let i = 0; i < 100_000; i++) h.observe(i % 7);
    expect(h.snapshot().counts).toHaveLength(4);
    expect(h.snapshot().count).toBe(100_000);
  });

  it.each([[[]], [[2, 1]], [[1, 1]]])("refuses bounds %j", (bounds) => {
    expect(() => new FixedHistogram(bounds)).toThrow();
  });

  it.each([
    { values: [], q: 0.5, expected: null },
    { values: [0.1, 0.2, 3], q: 0.5, expected: 1 },
    { values: [0.1, 0.2, 3], q: 1, expected: 5 },
    { values: [0.1, 9, 9], q: 0.5, expected: Infinity },
    { values: [1.5], q: 0.01, expected: 2 },
  ])("quantile $q of $values is at most $expected", ({ values, q, expected }) => {
    const h = new FixedHistogram([1, 2, 5]);
    for (const v of values) h.observe(v);
    expect(quantileUpperBound(h.snapshot(), q)).toBe(expected);
  });

  it("merges snapshots with the same buckets, and refuses others", () => {
    const a = new FixedHistogram([1, 2]);
    const b = new FixedHistogram([1, 2]);
    a.observe(0.5);
    b.observe(1.5);
    b.observe(3);
    expect(mergeHistograms(a.snapshot(), b.snapshot())).toEqual({ bounds: [1, 2], counts: [1, 1, 1], count: 3, sum: 5 });
    expect(() => mergeHistograms(a.snapshot(), new FixedHistogram([1, 3]).snapshot())).toThrow();
  });
});

const gauges = { turnsInFlight: 2, heapUsedBytes: 1234, uptimeSeconds: 60 };

describe("BotMetrics and the Prometheus text", () => {
  it("renders every family with HELP and TYPE, counters by label, and a cumulative histogram", () => {
    const m = new BotMetrics();
    m.turnFinished("complete");
    m.turnFinished("complete");
    m.turnFinished("failed");
    m.gatewayError(new GatewayCallError({ message: "x", status: 429, code: "rate_limit_exceeded" }));
    m.gatewayError(new GatewayCallError({ message: "x", status: 0 }));
    m.discordRateLimited({ waitMs: 1500, global: false });
    m.discordRateLimited({ waitMs: 500, global: true });
    m.firstEdit(30);
    m.firstEdit(700);
    m.firstEdit(60_000);
    const text = renderPrometheus(m.snapshot(gauges));
    const lines = text.trimEnd().split("\n");
    for (const expected of [
      'altiplano_bot_turns_total{outcome="complete"} 2',
      'altiplano_bot_turns_total{outcome="failed"} 1',
      'altiplano_bot_turns_total{outcome="stopped"} 0',
      'altiplano_bot_gateway_errors_total{status="429",code="rate_limit_exceeded"} 1',
      'altiplano_bot_gateway_errors_total{status="0",code="none"} 1',
      'altiplano_bot_discord_rate_limit_waits_total{global="false"} 1',
      'altiplano_bot_discord_rate_limit_waits_total{global="true"} 1',
      "altiplano_bot_discord_rate_limit_wait_seconds_total 2",
      'altiplano_bot_first_token_to_first_edit_seconds_bucket{le="0.025"} 0',
      'altiplano_bot_first_token_to_first_edit_seconds_bucket{le="0.05"} 1',
      'altiplano_bot_first_token_to_first_edit_seconds_bucket{le="1"} 2',
      'altiplano_bot_first_token_to_first_edit_seconds_bucket{le="10"} 2',
      'altiplano_bot_first_token_to_first_edit_seconds_bucket{le="+Inf"} 3',
      "altiplano_bot_first_token_to_first_edit_seconds_sum 60.73",
      "altiplano_bot_first_token_to_first_edit_seconds_count 3",
      "altiplano_bot_turns_in_flight 2",
      "altiplano_bot_heap_used_bytes 1234",
      "altiplano_bot_uptime_seconds 60",
    ]) {
      expect(lines).toContain(expected);
    }
    // Every sample belongs to a family announced just before it.
    const announced = new Set(lines.filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]));
    for (const sample of lines.filter((l) => !l.startsWith("#"))) {
      const name = sample.split(/[{ ]/)[0] ?? "";
      expect([...announced].some((f) => name === f || name.startsWith(`${f}_`))).toBe(true);
    }
  });

  it("escapes label values and keeps the number of error labels bounded", () => {
    const m = new BotMetrics();
    m.gatewayError(new GatewayCallError({ message: "x", status: 400, code: 'we"ird\\code' }));
    for (let i = 0; i < 200; i++) m.gatewayError(new GatewayCallError({ message: "x", status: 500, code: `code_${i}` }));
    const s = m.snapshot(gauges);
    expect(s.gatewayErrors.length).toBeLessThanOrEqual(65);
    expect(s.gatewayErrors.find((e) => e.code === "other")?.count).toBe(201 - 64);
    expect(renderPrometheus(s)).toContain('altiplano_bot_gateway_errors_total{status="400",code="we\\"ird\\\\code"} 1');
  });
});
