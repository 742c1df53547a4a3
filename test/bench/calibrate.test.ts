import { describe, expect, it } from "vitest";
import { differences, summarizeReal } from "../../bench/calibrate/compare.js";
import { loadCalibrateConfig, simulationConfig } from "../../bench/calibrate/config.js";
import { planSessions, sharedPromptIndex } from "../../bench/calibrate/plan.js";
import type { RealRequest } from "../../bench/calibrate/real-run.js";
import { singleTokenWords, textOfTokens } from "../../bench/calibrate/text.js";
import { deriveSeed, seededRandom } from "../../bench/cluster/rng.js";
import { Workload } from "../../bench/cluster/workload.js";
import { getPromptFamily, getTokenizer } from "../../workers/prompt/index.js";

const llama = getTokenizer("llama");
const VICUNA_V11_SYSTEM = getPromptFamily("vicuna_v1.1").defaultSystem!;

describe("text of a given token count", () => {
  it("has a usable vocabulary of one-token words", () => {
    expect(singleTokenWords().length).toBeGreaterThan(50);
  });

  it.each([1, 7, 69, 400])("%i tokens encode to exactly that many", (n) => {
    expect(llama.encode(textOfTokens(n, seededRandom(n))).length).toBe(n);
  });
});

describe("planned sessions match the simulation's draw", () => {
  const config = simulationConfig(loadCalibrateConfig([], {}));

  it("draws the same sessions in the same order as the cluster's Workload", () => {
    const plan = planSessions(config, 0.9);
    const workload = new Workload({ config, random: seededRandom(deriveSeed(config.seed, "workload")) });
    expect(plan.length).toBeGreaterThan(10);
    for (const p of plan.slice(0, 5)) expect(p.spec).toEqual(workload.nextSession());
  });

  it("arrives in order inside the duration, and is reproducible", () => {
    const plan = planSessions(config, 0.9);
    expect(plan.map((p) => p.atMs)).toEqual([...plan.map((p) => p.atMs)].sort((a, b) => a - b));
    expect(plan.at(-1)!.atMs).toBeLessThan(config.durationS * 1000);
    expect(planSessions(config, 0.9)).toEqual(plan);
  });

  it("gives shared-prompt sessions the default system line plus their app prompt, others none", () => {
    const plan = planSessions(config, 2);
    const shared = plan.filter((p) => sharedPromptIndex(p.spec, config) !== null);
    const plain = plan.filter((p) => sharedPromptIndex(p.spec, config) === null);
    expect(shared.length).toBeGreaterThan(0);
    expect(plain.length).toBeGreaterThan(0);
    for (const p of plain) expect(p.systemPrompt).toBeNull();
    for (const p of shared) expect(p.systemPrompt!.startsWith(`${VICUNA_V11_SYSTEM} `)).toBe(true);
    const byIndex = new Map(shared.map((p) => [sharedPromptIndex(p.spec, config), p.systemPrompt]));
    for (const p of shared) expect(p.systemPrompt).toBe(byIndex.get(sharedPromptIndex(p.spec, config)));
  });
});

describe("real run summary, with the simulation's definitions", () => {
  const req = (o: Partial<RealRequest>): RealRequest => ({ arrivalMs: 0, ttftMs: 100, completedMs: 0, promptTokens: 100, cachedTokens: 0, completionTokens: 10, ok: true, ...o });
  const window = { fromMs: 1_000, untilMs: 3_000 };

  it("measures requests arriving in the window; throughput counts completions in it", () => {
    const s = summarizeReal(
      [
        req({ arrivalMs: 500, completedMs: 1_500, completionTokens: 40 }), // before: not measured, but completes inside
        req({ arrivalMs: 1_000, completedMs: 2_000, ttftMs: 200, cachedTokens: 50 }),
        req({ arrivalMs: 2_900, completedMs: 3_500, ttftMs: 400, cachedTokens: 25 }), // completes after
        req({ arrivalMs: 2_000, ok: false, ttftMs: NaN }),
        req({ arrivalMs: 3_000 }), // after the window
      ],
      window,
    );
    expect(s.measuredRequests).toBe(3);
    expect(s.failedRequests).toBe(1);
    expect(s.ttftMs.p50).toBe(300);
    expect(s.prefixCacheHitRate).toBeCloseTo(75 / 200);
    expect(s.outputTokensPerS).toBe(25);
  });

  it("differences are real minus simulated, relative to simulated", () => {
    const base = summarizeReal([req({ arrivalMs: 1_000, completedMs: 2_000 })], window);
    const slower = { ...base, ttftMs: { ...base.ttftMs, p50: 150 } };
    const d = differences(slower, base).find((x) => x.metric === "TTFT p50 (ms)")!;
    expect(d).toMatchObject({ real: 150, simulated: 100, absolute: 50, relative: 0.5 });
  });
});
