/**
 * bench:turns' results file (every labelled run, so a before and an after sit side by side), its
 * Markdown summary and its chart. Pure: the caller reads and writes the files.
 */
import { fmt, markdownTable, type Column } from "../lib/markdown.js";
import { lineChart, type LineSeries } from "../lib/svg-chart.js";
import type { Bucket, GoalRatio, TurnSample } from "./analysis.js";
import type { TurnsConfig } from "./config.js";

export const CHART_FILE = "turns.svg";

export interface TurnsRun {
  label: string;
  date: string;
  /** git HEAD when the run started, and whether the tree had uncommitted changes. */
  commit: string;
  dirty: boolean;
  config: TurnsConfig;
  machine: { cpus: number; node: string; loadStart: number; loadEnd: number };
  durationS: number;
  cpuMeasured: boolean;
  ratio: GoalRatio;
  buckets: Bucket[];
  turns: TurnSample[];
}

export interface TurnsResults {
  runs: TurnsRun[];
}

/** Adds `run` to earlier results: a run with the same label is replaced where it stood, a new label goes last. */
export function mergeRun(previous: TurnsResults | null, run: TurnsRun): TurnsResults {
  const runs = [...(previous?.runs ?? [])];
  const at = runs.findIndex((r) => r.label === run.label);
  if (at === -1) runs.push(run);
  else runs[at] = run;
  return { runs };
}

const tokens = (n: number): string => n.toLocaleString("en-US");
const bucketName = (b: { from: number; to: number }): string => `${tokens(b.from)}–${tokens(b.to)}`;
const midpoint = (b: Bucket): number => (b.from + b.to) / 2;

function ratioTable(runs: readonly TurnsRun[]): string {
  const at = (run: TurnsRun, t: number): Bucket | undefined => run.buckets.find((b) => t >= b.from && t < b.to);
  const columns: Column<TurnsRun>[] = [
    { header: "run", cell: (r) => `${r.label} (${r.commit.slice(0, 7)}${r.dirty ? "+changes" : ""})` },
    { header: "turn @ ~100 tokens, p50", align: "right", cell: (r) => `${fmt(at(r, r.ratio.shortTokens)?.totalMs.p50 ?? NaN)} ms` },
    { header: "turn @ ~3,500, p50", align: "right", cell: (r) => `${fmt(at(r, r.ratio.longTokens)?.totalMs.p50 ?? NaN)} ms` },
    { header: "ratio", align: "right", cell: (r) => `**${fmt(r.ratio.totalP50, 2)}×**` },
    { header: "workerd CPU @ ~100", align: "right", cell: (r) => `${fmt(at(r, r.ratio.shortTokens)?.workerdCpuMs.mean ?? NaN, 2)} ms` },
    { header: "workerd CPU @ ~3,500", align: "right", cell: (r) => `${fmt(at(r, r.ratio.longTokens)?.workerdCpuMs.mean ?? NaN, 2)} ms` },
    { header: "CPU ratio", align: "right", cell: (r) => `${fmt(r.ratio.workerdCpu, 2)}×` },
  ];
  return markdownTable(columns, runs);
}

function comparisonTable(runs: readonly TurnsRun[]): string {
  const edges = new Map<string, { from: number; to: number }>();
  for (const run of runs) for (const b of run.buckets) edges.set(bucketName(b), { from: b.from, to: b.to });
  const rows = [...edges.values()].sort((a, b) => a.from - b.from);
  const find = (run: TurnsRun, row: { from: number }): Bucket | undefined => run.buckets.find((b) => b.from === row.from);
  const columns: Column<{ from: number; to: number }>[] = [{ header: "prompt tokens", cell: bucketName }];
  for (const run of runs) {
    columns.push(
      { header: `${run.label}: p50 / p99 ms`, align: "right", cell: (row) => { const b = find(run, row); return b ? `${fmt(b.totalMs.p50)} / ${fmt(b.totalMs.p99)}` : "–"; } },
      { header: `${run.label}: workerd CPU ms`, align: "right", cell: (row) => fmt(find(run, row)?.workerdCpuMs.mean ?? NaN, 2) },
    );
  }
  return markdownTable(columns, rows);
}

function runTable(run: TurnsRun): string {
  const columns: Column<Bucket>[] = [
    { header: "prompt tokens", cell: bucketName },
    { header: "turns", align: "right", cell: (b) => b.turns },
    { header: "p50 ms", align: "right", cell: (b) => fmt(b.totalMs.p50) },
    { header: "p99 ms", align: "right", cell: (b) => fmt(b.totalMs.p99) },
    { header: "mean ms", align: "right", cell: (b) => fmt(b.totalMs.mean) },
    { header: "workerd CPU mean / p50 ms", align: "right", cell: (b) => `${fmt(b.workerdCpuMs.mean, 2)} / ${fmt(b.workerdCpuMs.p50, 2)}` },
    { header: "simulator CPU mean ms", align: "right", cell: (b) => fmt(b.simCpuMs.mean, 2) },
  ];
  return markdownTable(columns, run.buckets);
}

/** The chart: p50 time per turn and mean workerd CPU per turn against the prompt, one pair of lines per run. */
export function turnsChart(results: TurnsResults): string {
  const series: LineSeries[] = [];
  results.runs.forEach((run, i) => {
    const emphasis = i === results.runs.length - 1;
    series.push({ name: `${run.label} p50`, points: run.buckets.map((b) => ({ x: midpoint(b), y: b.totalMs.p50 })), emphasis });
    if (run.cpuMeasured) series.push({ name: `${run.label} CPU`, points: run.buckets.map((b) => ({ x: midpoint(b), y: b.workerdCpuMs.mean })) });
  });
  return lineChart({
    title: "A conversation turn against its history (vicuna-13b-v1.5)",
    xLabel: "prompt tokens (history + new message), bucket midpoint",
    yLabel: "ms per turn (p50 time; mean workerd CPU)",
    series,
  });
}

export function turnsMarkdown(results: TurnsResults): string {
  const runs = results.runs;
  const latest = runs[runs.length - 1];
  const lines = [
    "# A conversation turn against its history (`npm run bench:turns`)",
    "",
    "Stored conversations driven through `POST /v1/conversations/{id}/messages` until their history fills",
    "vicuna-13b-v1.5's 4,096-token window, one turn at a time on one connection, against the full gateway",
    "in workerd (Miniflare, local D1 and Durable Objects) and one vLLM simulator with no latency",
    "(`--fast --reply-length max`: every reply is exactly `max_tokens` long, so the GPU side is the same",
    "at every length). Every user message is new English-like text from a seeded generator",
    "(`bench/turns/text.ts`); the replies are the simulator's lorem text, seeded by the prompt.",
    "",
    "**Per-isolate encode cache off** (`ENCODE_CACHE_MAX_TOKENS=0`, unless a run says otherwise). In one",
    "local isolate the cache holds every earlier message of a conversation, since the previous turn of",
    "the same conversation encoded it a moment ago: the run with the cache on shows history almost free",
    "there. In production a conversation's turns land on many isolates (and isolates come and go), so the",
    "history is mostly encoded again; turning the cache off makes every turn pay what a fresh isolate",
    "pays. Interleaving conversations cannot stand in for that honestly: the LRU keeps the newest 250,000",
    "tokens, so short histories would still hit and only long ones miss, which skews the comparison.",
    "",
    "Time per turn is the client's, from sending the request to the end of the answer (non-streamed),",
    "so it includes the simulator. CPU per turn is read from `/proc/<pid>/task/*/schedstat` of the workerd",
    "process (the gateway's isolate, local D1 and both Durable Objects) and of the simulator process,",
    "from one turn's start to the next's, so it includes each turn's background work (settlement).",
    "Turns are bucketed by the prompt the gateway counted (`usage.prompt_tokens`).",
    "",
    "## The goal: a turn at 3,500 tokens of history costs at most 1.5× a turn at 100",
    "",
    "The ratio compares the bucket holding 3,500 prompt tokens with the one holding 100 (a first or",
    "second turn).",
    "",
    ratioTable(runs),
    "",
    `![time and CPU per turn against the prompt](${CHART_FILE})`,
    "",
  ];
  if (runs.length > 1) lines.push("## Side by side", "", comparisonTable(runs), "");
  for (const run of runs) {
    const c = run.config;
    lines.push(
      `## Run \`${run.label}\``,
      "",
      `${run.date}, commit ${run.commit.slice(0, 7)}${run.dirty ? " with uncommitted changes" : ""}; ${c.conversations} conversations ` +
        `(after ${c.warmupConversations} unrecorded), ${run.turns.length} turns in ${fmt(run.durationS, 0)} s; max_tokens ${c.maxTokens}; ` +
        `${c.minSentences}–${c.maxSentences} sentences a message; seed ${c.seed}; encode cache ${c.encodeCache === "default" ? "at its default size" : c.encodeCache === 0 ? "off" : `${c.encodeCache} tokens`}. ` +
        `${run.machine.cpus} cores, Node ${run.machine.node}, load ${fmt(run.machine.loadStart, 2)} → ${fmt(run.machine.loadEnd, 2)}` +
        `${run.cpuMeasured ? "" : "; CPU not measured (no /proc schedstat)"}.`,
      ...(c.note ? ["", c.note] : []),
      "",
      runTable(run),
      "",
    );
  }
  if (latest) lines.push(`Raw turns: [turns.json](turns.json).`, "");
  return lines.join("\n");
}
