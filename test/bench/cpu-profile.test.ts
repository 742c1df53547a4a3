import { describe, expect, it } from "vitest";
import { summarizeProfile, type CpuProfile } from "../../bench/profile/cpu-profile.js";

const frame = (functionName: string, url = "", lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });

/** root → handler → (parse, parse → JSON.parse); plus idle, program and GC beside the handler. */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame("(root)"), children: [2, 5, 6, 7] },
    { id: 2, callFrame: frame("handler", "file:///w/script.js", 9), children: [3] },
    { id: 3, callFrame: frame("parse", "file:///w/script.js", 19), children: [4] },
    { id: 4, callFrame: frame("parse", "file:///w/script.js", 19) },
    { id: 5, callFrame: frame("(idle)") },
    { id: 6, callFrame: frame("(program)") },
    { id: 7, callFrame: frame("(garbage collector)") },
  ],
  startTime: 0,
  endTime: 10_000,
  // Each sample stands for the delta that follows it: 1 ms each, except the idle one (4 ms).
  samples: [2, 3, 4, 5, 6, 7, 2],
  timeDeltas: [0, 1000, 1000, 1000, 4000, 1000, 1000],
};

describe("summarizeProfile", () => {
  const s = summarizeProfile(profile);

  it("splits the profiled time into JavaScript, V8 and idle", () => {
    expect(s).toMatchObject({ totalMs: 10, idleMs: 4, programMs: 1, gcMs: 1, jsMs: 3 });
  });

  it.each([
    // A sample's time goes to the delta after it; the last sample has none and counts nothing.
    ["handler (script.js:10)", 1, 3],
    // Recursion counts once per sample in inclusive time.
    ["parse (script.js:20)", 2, 2],
  ])("%s: self %d ms, inclusive %d ms", (name, selfMs, inclusiveMs) => {
    expect(s.functions.find((f) => f.name === name)).toEqual({ name, selfMs, inclusiveMs });
  });

  it("orders functions by self time", () => {
    expect(s.functions.map((f) => f.name).slice(0, 2)).toEqual(["(idle)", "parse (script.js:20)"]);
  });
});
