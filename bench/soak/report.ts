/**
 * The soak benchmark's results: their JSON shape, the Markdown summary (a soak table and one row
 * per fault) and the SVG chart. Pure: soak.ts writes what these return.
 */
import { barChart, lineChart } from "../lib/svg-chart.js";
import { fmt, markdownTable, type Column } from "../lib/markdown.js";
import type { MemoryDelta, OutcomeCounts, Percentiles, Recovery, StorageCheck } from "./analysis.js";

export const CHART_FILE = "soak.svg";
export const MEMORY_CHART_FILE = "soak-memory.svg";

/** One stretch of load with its judgement: the soak, or one fault of the matrix. */
export interface PhaseResult {
  name: string;
  /** What was done to the stack, in words. */
  fault: string;
  streams: number;
  durationS: number;
  outcomes: OutcomeCounts;
  ttft: Percentiles;
  storage: StorageCheck;
  /** Concurrency slots the key's limiter still held after the phase (probe refusals); null = not probed. */
  leakedSlots: number | null;
  /** Null for the soak (no fault). */
  recovery: Recovery | null;
}

export interface SoakRun {
  date: string;
  commit: string;
  machine: { cpus: number; node: string; loadStart: number; loadEnd: number };
  config: Record<string, unknown>;
  soak: PhaseResult & {
    gatewayMemory: MemoryDelta;
    simulatorMemory: MemoryDelta;
    /** CPU used during the soak per second of it (1 = one core busy): workerd, the simulators, this client. */
    cpuCores: { gateway: number; simulators: number; client: number } | null;
    /** Resident memory every few seconds of the soak: seconds in, MB. */
    memorySeries: { atS: number; gatewayMb: number; simulatorsMb: number }[];
  };
  faults: PhaseResult[];
  durationS: number;
}

const ms = (v: number | null): string => (v === null ? "never" : `${fmt(v / 1000, 2)} s`);
const codes = (r: Record<string, number>): string =>
  Object.entries(r)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ×${n}`)
    .join(", ") || "–";
const mem = (m: MemoryDelta): string => `${fmt(m.startMb, 0)} → ${fmt(m.endMb, 0)} MB (${m.changeMb >= 0 ? "+" : ""}${fmt(m.changeMb, 0)} MB)`;

/** The soak's figures as a two-column table (figure, value, target). */
export function soakTable(soak: SoakRun["soak"]): string {
  const rows: { figure: string; value: string; target: string }[] = [
    { figure: "streamed turns", value: String(soak.outcomes.turns), target: "" },
    { figure: "completed whole", value: String(soak.outcomes.complete), target: "all" },
    { figure: "errors (clean / broken)", value: `${soak.outcomes.cleanErrors} / ${soak.outcomes.broken}`, target: "0 / 0" },
    { figure: "error codes", value: `${codes(soak.outcomes.errorCodes)}; broken: ${codes(soak.outcomes.brokenReasons)}`, target: "" },
    { figure: "user messages lost / stored twice", value: `${soak.storage.userLost} / ${soak.storage.userDuplicated}`, target: "0 / 0" },
    { figure: "assistant messages missing / stored twice", value: `${soak.storage.assistantMissing} / ${soak.storage.assistantDuplicated}`, target: "0 / 0" },
    { figure: "refused turns stored anyway", value: String(soak.storage.refusedButStored), target: "0" },
    { figure: "leaked limiter slots", value: soak.leakedSlots === null ? "not probed" : String(soak.leakedSlots), target: "0" },
    { figure: "TTFT p50 / p99", value: `${fmt(soak.ttft.p50, 0)} / ${fmt(soak.ttft.p99, 0)} ms`, target: "" },
    { figure: "gateway (workerd) RSS, 10 s in → end", value: mem(soak.gatewayMemory), target: "flat" },
    { figure: "simulators' RSS (sum), 10 s in → end", value: mem(soak.simulatorMemory), target: "flat" },
    {
      figure: "CPU cores busy: workerd / simulators / the bench's clients",
      value: soak.cpuCores === null ? "not measured" : `${fmt(soak.cpuCores.gateway, 2)} / ${fmt(soak.cpuCores.simulators, 2)} / ${fmt(soak.cpuCores.client, 2)}`,
      target: "",
    },
  ];
  return markdownTable<(typeof rows)[number]>(
    [
      { header: "figure", cell: (r) => r.figure },
      { header: "value", cell: (r) => r.value },
      { header: "target", cell: (r) => r.target },
    ],
    rows,
  );
}

/** One row per fault: what the clients saw, what was stored, what the limiter kept, how fast it recovered. */
export function faultTable(faults: readonly PhaseResult[]): string {
  const columns: Column<PhaseResult>[] = [
    { header: "fault", cell: (p) => p.name },
    { header: "turns", align: "right", cell: (p) => p.outcomes.turns },
    { header: "completed whole", align: "right", cell: (p) => p.outcomes.complete },
    { header: "clean errors", align: "right", cell: (p) => p.outcomes.cleanErrors },
    { header: "broken", align: "right", cell: (p) => p.outcomes.broken },
    { header: "client left", align: "right", cell: (p) => p.outcomes.disconnected },
    { header: "user msgs lost", align: "right", cell: (p) => p.storage.userLost },
    { header: "assistant msgs duplicated", align: "right", cell: (p) => p.storage.assistantDuplicated },
    { header: "replies missing", align: "right", cell: (p) => p.storage.assistantMissing },
    { header: "leaked slots", align: "right", cell: (p) => (p.leakedSlots === null ? "–" : p.leakedSlots) },
    { header: "first success", align: "right", cell: (p) => (p.recovery === null ? "–" : ms(p.recovery.firstSuccessMs)) },
    { header: "all good", align: "right", cell: (p) => (p.recovery === null ? "–" : ms(p.recovery.allGoodMs)) },
    { header: "error codes", cell: (p) => codes(p.outcomes.errorCodes) + (p.outcomes.broken > 0 ? `; broken: ${codes(p.outcomes.brokenReasons)}` : "") },
  ];
  return markdownTable(columns, faults);
}

/** Outcomes per phase as grouped bars: the soak first, then each fault. */
export function soakChart(run: SoakRun): string {
  const phases = [run.soak, ...run.faults];
  const share = (p: PhaseResult, n: number): number => (p.outcomes.turns === 0 ? 0 : (100 * n) / p.outcomes.turns);
  return barChart({
    title: "Streamed turns by outcome, soak and each fault (% of the phase's turns)",
    yLabel: "% of turns",
    categories: phases.map((p) => p.name),
    groups: [
      { name: "completed whole", values: phases.map((p) => share(p, p.outcomes.complete)) },
      { name: "clean error", values: phases.map((p) => share(p, p.outcomes.cleanErrors)) },
      { name: "broken", values: phases.map((p) => share(p, p.outcomes.broken)) },
      { name: "client left", values: phases.map((p) => share(p, p.outcomes.disconnected)) },
    ],
    yFormat: (v) => `${Math.round(v)}`,
  });
}

/** workerd's and the simulators' resident memory over the soak. */
export function memoryChart(soak: SoakRun["soak"]): string {
  return lineChart({
    title: `Resident memory during the soak (${soak.streams} streams)`,
    xLabel: "seconds into the soak",
    yLabel: "MB",
    series: [
      { name: "gateway (workerd)", points: soak.memorySeries.map((p) => ({ x: p.atS, y: p.gatewayMb })), emphasis: true },
      { name: "simulators (sum)", points: soak.memorySeries.map((p) => ({ x: p.atS, y: p.simulatorsMb })) },
    ],
  });
}

export function soakMarkdown(run: SoakRun): string {
  const c = run.config;
  return `# Soak and fault matrix

\`npm run bench:soak\` — ${run.date}, commit \`${run.commit.slice(0, 12)}\`, ${run.machine.cpus} CPUs, Node ${run.machine.node},
load average ${fmt(run.machine.loadStart, 2)} at the start and ${fmt(run.machine.loadEnd, 2)} at the end, ${fmt(run.durationS, 0)} s in all.
The machine is shared with other engineers' test runs, so times (TTFT, recovery) carry their noise;
the counts (lost, duplicated, leaked, broken) do not depend on speed.

The local stack: the gateway in workerd (Miniflare) with local D1 and Durable Objects, and
${String(c.workers)} GPU workers, each a vLLM simulator process with its agent process beside it
(\`npm run sim\` / \`npm run agent\`), on loopback. Every stream is a turn of a server-side
conversation (\`POST /v1/conversations/{id}/messages\`, \`stream: true\`, max_tokens ${String(c.maxTokens)});
each conversation sends its next turn as soon as the last one ends. After each phase every
conversation is read back and compared with what its client saw, and the key's limiter is probed
with as many simultaneous requests as its concurrency limit: a refusal means a slot leaked.

## Soak: ${run.soak.streams} concurrent streamed conversations for ${fmt(run.soak.durationS, 0)} s

${soakTable(run.soak)}

![Resident memory during the soak](${MEMORY_CHART_FILE})

## Fault matrix: ${String(c.faultStreams)} streams, each fault for ${fmt(Number(c.faultSeconds), 0)} s

Gateway settings for this run: FIRST_TOKEN_TIMEOUT_MS ${String(c.firstTokenTimeoutMs)}, TOKEN_STALL_TIMEOUT_MS ${String(c.tokenStallTimeoutMs)}
(defaults 30 000 and 20 000), so a hung or stalled worker is left within the run. *First success*:
from the fault's end (the kill, for a killed worker) to the first token of the first turn started
after it that completed; *all good*: until every turn started from then on completed.

${faultTable(run.faults)}

| fault | what was done |
| --- | --- |
${run.faults.map((f) => `| ${f.name} | ${f.fault} |`).join("\n")}

![Turns by outcome](${CHART_FILE})
`;
}
