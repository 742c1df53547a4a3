/** The dashboard's words and numbers: shares, counts, rates, durations, worker states, breakers, actions, runtimes and language tags. */
import { describe, expect, it } from "vitest";
import { formatAge, formatClock, formatCount, formatDuration, formatShare, formatTokensPerSecond } from "../../web/src/dashboard/format.js";
import { usableLanguageTag } from "../../web/src/dashboard/language-tag.js";
import { availableActions, breakerView, confirmQuestion, runtimeLabel, stateView, usageTone, type RuntimeInfo, type Tone } from "../../web/src/dashboard/worker-state.js";
import type { PoolWorkerState } from "../../wire/pool-admin.js";

const THIN = "\u2009";

describe("formatShare", () => {
  it.each<[number | null | undefined, string]>([
    [0, "0 %"],
    [0.004, "<1 %"],
    [0.005, "1 %"],
    [0.424, "42 %"],
    [0.425, "43 %"],
    [1, "100 %"],
    [1.3, "100 %"],
    [-0.2, "0 %"],
    [Number.NaN, "\u2014"],
    [null, "\u2014"],
    [undefined, "\u2014"],
  ])("%s → %s", (value, text) => {
    expect(formatShare(value)).toBe(text);
  });
});

describe("formatCount", () => {
  it.each<[number | null, string]>([
    [0, "0"],
    [7, "7"],
    [999, "999"],
    [1234, `1${THIN}234`],
    [9999, `9${THIN}999`],
    [10_000, "10 k"],
    [12_345, "12.3 k"],
    [99_949, "99.9 k"],
    [123_456, "123 k"],
    [1_000_000, "1 M"],
    [4_560_000, "4.6 M"],
    [250_000_000, "250 M"],
    [3_200_000_000, "3.2 G"],
    [-1234, `\u22121${THIN}234`],
    [2.6, "3"],
    [null, "\u2014"],
    [Number.POSITIVE_INFINITY, "\u2014"],
  ])("%s → %s", (value, text) => {
    expect(formatCount(value)).toBe(text);
  });
});

describe("formatTokensPerSecond", () => {
  it.each<[number, string]>([
    [0, "0 tok/s"],
    [7.46, "7.5 tok/s"],
    [42, "42 tok/s"],
    [99.94, "99.9 tok/s"],
    [1234.4, `1${THIN}234 tok/s`],
    [-3, "0 tok/s"],
  ])("%s → %s", (value, text) => {
    expect(formatTokensPerSecond(value)).toBe(text);
  });
});

describe("formatDuration and formatAge", () => {
  it.each<[number | null, string]>([
    [0, "0 ms"],
    [12.6, "13 ms"],
    [999, "999 ms"],
    [1_000, "1 s"],
    [1_234, "1.2 s"],
    [9_960, "10 s"],
    [10_400, "10 s"],
    [59_400, "59 s"],
    [60_000, "1 min"],
    [185_000, "3 min 5 s"],
    [3_600_000, "1 h"],
    [5_460_000, "1 h 31 min"],
    [-5, "0 ms"],
    [null, "\u2014"],
  ])("duration %s → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each<[number, string]>([
    [0, "now"],
    [249, "now"],
    [250, "250 ms ago"],
    [1_500, "1.5 s ago"],
    [125_000, "2 min 5 s ago"],
  ])("age %s → %s", (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});

describe("formatClock", () => {
  it("writes local hours and minutes (and seconds when asked), 24 h", () => {
    const at = new Date(2026, 10, 28, 9, 5, 7).getTime();
    expect(formatClock(at)).toBe("09:05");
    expect(formatClock(at, { seconds: true })).toBe("09:05:07");
    expect(formatClock(new Date(2026, 10, 28, 23, 59).getTime())).toBe("23:59");
  });
});

describe("worker states", () => {
  it.each<[PoolWorkerState, string, Tone]>([
    ["ready", "Ready", "ok"],
    ["draining", "Draining", "warn"],
    ["cordoned", "Cordoned", "info"],
    ["unhealthy", "Unhealthy", "danger"],
    ["gone", "Gone", "off"],
  ])("%s → %s (%s)", (state, label, tone) => {
    const view = stateView(state);
    expect([view.label, view.tone]).toEqual([label, tone]);
    expect(view.meaning.length).toBeGreaterThan(10);
  });

  it.each<["active" | "cordoned" | "draining", string[]]>([
    ["active", ["drain", "cordon", "remove"]],
    ["cordoned", ["drain", "uncordon", "remove"]],
    ["draining", ["uncordon", "remove"]],
  ])("an operator state of %s offers %j", (adminState, actions) => {
    expect(availableActions(adminState)).toEqual(actions);
  });

  it("asks a question naming the worker before each action", () => {
    expect(confirmQuestion("drain", "gpu-7")).toMatch(/^Drain gpu-7\? /);
    expect(confirmQuestion("cordon", "gpu-7")).toMatch(/^Cordon gpu-7\? /);
    expect(confirmQuestion("uncordon", "gpu-7")).toMatch(/^Uncordon gpu-7\? /);
    expect(confirmQuestion("remove", "gpu-7")).toMatch(/^Remove gpu-7 from the pool\? /);
  });
});

describe("breakerView", () => {
  const NOW = 1_800_000_000_000;
  it.each<[number, number, string, boolean]>([
    [0, 0, "closed", false],
    [0, 1, "closed · 1 failure", false],
    [NOW - 1, 3, "closed · 3 failures", false],
    [NOW, 2, "closed · 2 failures", false],
    [NOW + 4_500, 3, "open · 4.5 s left", true],
    [NOW + 250, 1, "open · 250 ms left", true],
  ])("cooldown until %d, %d failures in a row → %s", (cooldownUntil, failures, label, open) => {
    expect(breakerView({ cooldown_until: cooldownUntil, consecutive_failures: failures }, NOW)).toEqual({ label, open });
  });
});

describe("runtimeLabel and usageTone", () => {
  it.each<[RuntimeInfo | undefined, string | null]>([
    [{ kind: "vllm", version: "0.18.1" }, "vLLM 0.18.1"],
    [{ kind: "vllm", version: null }, "vLLM"],
    [{ kind: "simulator", version: "0.1.0" }, "simulator (no model)"],
    [{ kind: "unknown", version: null }, "unknown"],
    [undefined, null],
  ])("%j → %s", (runtime, label) => {
    expect(runtimeLabel(runtime)).toBe(label);
  });

  it.each<[number, Tone]>([
    [0, "ok"],
    [0.69, "ok"],
    [0.7, "warn"],
    [0.89, "warn"],
    [0.9, "danger"],
    [1, "danger"],
  ])("KV cache %s → %s", (fraction, tone) => {
    expect(usageTone(fraction)).toBe(tone);
  });
});

describe("usableLanguageTag", () => {
  // What ICU accepts, as Intl.NumberFormat does in a browser.
  const accepts = (tag: string): boolean => {
    try {
      new Intl.NumberFormat(tag);
      return true;
    } catch {
      return false;
    }
  };
  it.each<[string, string]>([
    ["en-US", "en-US"],
    ["de", "de"],
    ["pt-BR", "pt-BR"],
    ["en-US@posix", "en-US"],
    ["en_US.UTF-8", "en-US"],
    ["", "en-US"],
    ["@@", "en-US"],
  ])("%j → %s", (tag, usable) => {
    expect(usableLanguageTag(tag, accepts)).toBe(usable);
  });
});
