import { describe, expect, it } from "vitest";
import { memoryDelta } from "../../bench/soak/analysis.js";
import { loadSoakConfig } from "../../bench/soak/config.js";
import { faultTable, memoryChart, soakChart, soakMarkdown, soakTable, type PhaseResult, type SoakRun } from "../../bench/soak/report.js";

function phase(p: Partial<PhaseResult> & { name: string }): PhaseResult {
  return {
    fault: "something",
    streams: 32,
    durationS: 16,
    outcomes: { turns: 100, complete: 100, cleanErrors: 0, broken: 0, disconnected: 0, errorCodes: {}, brokenReasons: {} },
    ttft: { count: 100, p50: 120, p99: 480 },
    storage: { acceptedTurns: 100, userLost: 0, userDuplicated: 0, refusedButStored: 0, assistantMissing: 0, assistantDuplicated: 0 },
    leakedSlots: 0,
    recovery: { firstSuccessMs: 250, allGoodMs: 0 },
    ...p,
  };
}

const soak = { ...phase({ name: "soak", streams: 200, recovery: null }), gatewayMemory: memoryDelta(120 * 2 ** 20, 125 * 2 ** 20), simulatorMemory: memoryDelta(300 * 2 ** 20, 290 * 2 ** 20), cpuCores: { gateway: 0.98, simulators: 0.5, client: 0.4 }, memorySeries: [{ atS: 0, gatewayMb: 120, simulatorsMb: 300 }, { atS: 2, gatewayMb: 125, simulatorsMb: 290 }] };

describe("soak report", () => {
  it("one fault row per fault, its cells in column order", () => {
    const table = faultTable([
      phase({ name: "worker killed" }),
      phase({
        name: "D1 failing",
        outcomes: { turns: 90, complete: 60, cleanErrors: 29, broken: 1, disconnected: 0, errorCodes: { "503 storage_unavailable": 20, "409 conversation_busy": 9 }, brokenReasons: { "a frame that is not JSON": 1 } },
        storage: { acceptedTurns: 61, userLost: 0, userDuplicated: 0, refusedButStored: 0, assistantMissing: 2, assistantDuplicated: 1 },
        leakedSlots: 3,
        recovery: { firstSuccessMs: 1_234, allGoodMs: null },
      }),
    ]).split("\n");
    expect(table).toHaveLength(4);
    expect(table[0]).toBe("| fault | turns | completed whole | clean errors | broken | client left | user msgs lost | assistant msgs duplicated | replies missing | leaked slots | first success | all good | error codes |");
    expect(table[2]).toBe("| worker killed | 100 | 100 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0.25 s | 0.00 s | – |");
    expect(table[3]).toBe("| D1 failing | 90 | 60 | 29 | 1 | 0 | 0 | 1 | 2 | 3 | 1.23 s | never | 503 storage_unavailable ×20, 409 conversation_busy ×9; broken: a frame that is not JSON ×1 |");
  });

  it("the soak table shows each figure against its target", () => {
    const rows = soakTable(soak).split("\n");
    expect(rows).toContain("| errors (clean / broken) | 0 / 0 | 0 / 0 |");
    expect(rows).toContain("| TTFT p50 / p99 | 120 / 480 ms |  |");
    expect(rows).toContain("| gateway (workerd) RSS, 10 s in → end | 120 → 125 MB (+5 MB) | flat |");
    expect(rows).toContain("| simulators' RSS (sum), 10 s in → end | 300 → 290 MB (-10 MB) | flat |");
    expect(rows).toContain("| leaked limiter slots | 0 | 0 |");
    expect(rows).toContain("| CPU cores busy: workerd / simulators / the bench's clients | 0.98 / 0.50 / 0.40 |  |");
  });

  it("the summary holds both tables, the chart and what each fault did; the chart has a bar group per phase", () => {
    const run: SoakRun = {
      date: "2026-11-28T18:00:00.000Z",
      commit: "0123456789abcdef",
      machine: { cpus: 2, node: "20.19.0", loadStart: 3.5, loadEnd: 4 },
      config: { ...loadSoakConfig([], {}) },
      soak,
      faults: [phase({ name: "worker killed", fault: "SIGKILL" }), phase({ name: "limiter failing", fault: "limiter down" })],
      durationS: 400,
    };
    const md = soakMarkdown(run);
    expect(md).toContain("## Soak: 200 concurrent streamed conversations for 16 s");
    expect(md).toContain("| worker killed | SIGKILL |");
    expect(md).toContain("| limiter failing | limiter down |");
    expect(md).toContain("![Turns by outcome](soak.svg)");
    expect(md).toContain("![Resident memory during the soak](soak-memory.svg)");
    expect(memoryChart(soak)).toContain("gateway (workerd)");
    const svg = soakChart(run);
    expect(svg.startsWith("<svg")).toBe(true);
    for (const name of ["soak", "worker killed", "limiter failing", "completed whole", "clean error", "broken"]) expect(svg).toContain(name);
  });
});

describe("soak configuration", () => {
  it("defaults to the issue's figures: 200 streams for 60 s, 32 streams per fault", () => {
    const c = loadSoakConfig([], {});
    expect([c.conversations, c.durationS, c.faultStreams]).toEqual([200, 60, 32]);
  });
  it("flags win over env, and a bad value names its flag", () => {
    expect(loadSoakConfig(["--conversations", "50"], { SOAK_CONVERSATIONS: "20" }).conversations).toBe(50);
    expect(loadSoakConfig([], { SOAK_CONVERSATIONS: "20" }).conversations).toBe(20);
    expect(() => loadSoakConfig(["--workers", "1"], {})).toThrow(/workers/);
  });
});
