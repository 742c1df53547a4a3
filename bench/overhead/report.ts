/**
 * The overhead benchmark's results file shape, its Markdown summary and its SVG charts.
 */
import { fmt, markdownTable, type Column } from "../lib/markdown.js";
import { barChart } from "../lib/svg-chart.js";
import { PATH_LABELS, totalCalls, type CellResult, type Overhead, type PathId, type Delta } from "./analysis.js";
import type { CallCounts } from "./call-counts.js";
import type { OverheadConfig } from "./config.js";
import { KEY_WORKLOAD_LABELS, type KeyCell } from "./keys.js";

export interface OverheadResults {
  generatedAt: string;
  node: string;
  cpus: number;
  /** 1-minute load average before and after: the machine is shared, so read tails with it. */
  loadAverage: { start: number; end: number };
  wallS: number;
  config: OverheadConfig;
  requestBody: { stream: unknown; nonStream: unknown };
  cells: CellResult[];
  overheads: Overhead[];
  callCounts: CallCounts | null;
  /** One hot key against many, through the Miniflare gateway (null when it was not measured). */
  keyScaling: KeyCell[] | null;
}

/** The comparisons reported: each path against its baselines. */
export const COMPARISONS: readonly { path: PathId; baseline: PathId }[] = [
  { path: "altiplano-miniflare", baseline: "bare-miniflare" },
  { path: "altiplano-miniflare", baseline: "direct" },
  { path: "portkey", baseline: "bare-miniflare" },
  { path: "portkey", baseline: "direct" },
  { path: "bare-miniflare", baseline: "direct" },
  { path: "altiplano-wrangler", baseline: "bare-wrangler" },
  { path: "altiplano-wrangler", baseline: "direct" },
  { path: "bare-wrangler", baseline: "bare-miniflare" },
  { path: "altiplano-wrangler", baseline: "altiplano-miniflare" },
];

const MAIN_PATHS: readonly PathId[] = ["direct", "bare-miniflare", "portkey", "altiplano-miniflare"];
const RUNTIME_PATHS: readonly PathId[] = ["bare-miniflare", "bare-wrangler", "altiplano-miniflare", "altiplano-wrangler"];
const HEADLINE_CONCURRENCY = 16;

export const CHART_FILES = {
  ttftP50: "overhead-stream-ttft-p50.svg",
  ttftP99: "overhead-stream-ttft-p99.svg",
  totalP50: "overhead-nonstream-total-p50.svg",
  totalP99: "overhead-nonstream-total-p99.svg",
  runtimes: "overhead-wrangler-vs-miniflare.svg",
} as const;

const deltaText = (d: Delta | undefined): string => (d === undefined ? "–" : `${d.ms >= 0 ? "+" : ""}${fmt(d.ms, 2)} ms (×${fmt(d.ratio, 2)})`);

function findOverhead(results: OverheadResults, o: { path: PathId; baseline: PathId; concurrency: number; stream: boolean }): Overhead | undefined {
  return results.overheads.find((x) => x.path === o.path && x.baseline === o.baseline && x.concurrency === o.concurrency && x.stream === o.stream);
}

function cell(results: OverheadResults, path: PathId, concurrency: number, stream: boolean): CellResult | undefined {
  return results.cells.find((c) => c.path === path && c.concurrency === concurrency && c.stream === stream);
}

/** Charts as { file name: SVG text }. */
export function overheadCharts(results: OverheadResults): Record<string, string> {
  const concurrencies = results.config.concurrency;
  const categories = concurrencies.map((c) => `${c} concurrent`);
  const present = (paths: readonly PathId[]) => paths.filter((p) => results.cells.some((c) => c.path === p));
  const grouped = (paths: readonly PathId[], stream: boolean, pick: (c: CellResult) => number) =>
    present(paths).map((p) => ({ name: PATH_LABELS[p], values: concurrencies.map((c) => { const x = cell(results, p, c, stream); return x ? pick(x) : NaN; }) }));
  const ms = (v: number): string => `${fmt(v, v < 10 ? 1 : 0)} ms`;
  const runtimeCategories = ["stream TTFT p50", "stream TTFT p99", "non-stream total p50", "non-stream total p99"];
  const runtimePick = (c: CellResult | undefined, i: number): number =>
    c === undefined ? NaN : [c.ttftMs.p50, c.ttftMs.p99, c.totalMs.p50, c.totalMs.p99][i]!;
  return {
    [CHART_FILES.ttftP50]: barChart({ title: "Streaming: time to first token, median", yLabel: "ms", categories, groups: grouped(MAIN_PATHS, true, (c) => c.ttftMs.p50), yFormat: ms }),
    [CHART_FILES.ttftP99]: barChart({ title: "Streaming: time to first token, p99", yLabel: "ms", categories, groups: grouped(MAIN_PATHS, true, (c) => c.ttftMs.p99), yFormat: ms }),
    [CHART_FILES.totalP50]: barChart({ title: "Non-streaming: total time, median", yLabel: "ms", categories, groups: grouped(MAIN_PATHS, false, (c) => c.totalMs.p50), yFormat: ms }),
    [CHART_FILES.totalP99]: barChart({ title: "Non-streaming: total time, p99", yLabel: "ms", categories, groups: grouped(MAIN_PATHS, false, (c) => c.totalMs.p99), yFormat: ms }),
    [CHART_FILES.runtimes]: barChart({
      title: `wrangler dev vs Miniflare at ${HEADLINE_CONCURRENCY} concurrent`,
      yLabel: "ms",
      categories: runtimeCategories,
      groups: present(RUNTIME_PATHS).map((p) => ({
        name: PATH_LABELS[p],
        values: runtimeCategories.map((_, i) => runtimePick(cell(results, p, HEADLINE_CONCURRENCY, i < 2), i)),
      })),
      yFormat: ms,
    }),
  };
}

function cellTable(results: OverheadResults, stream: boolean): string {
  const rows = results.cells.filter((c) => c.stream === stream);
  const first = stream ? "TTFT" : "TTFB";
  const columns: Column<CellResult>[] = [
    { header: "path", cell: (c) => PATH_LABELS[c.path] },
    { header: "concurrent", align: "right", cell: (c) => c.concurrency },
    { header: "requests", align: "right", cell: (c) => c.requests },
    { header: "req/s", align: "right", cell: (c) => fmt(c.throughputRps, 0) },
    { header: `${first} p50 ms`, align: "right", cell: (c) => fmt(c.ttftMs.p50, 2) },
    { header: `${first} p99 ms`, align: "right", cell: (c) => fmt(c.ttftMs.p99, 2) },
    { header: "total p50 ms", align: "right", cell: (c) => fmt(c.totalMs.p50, 2) },
    { header: "total p99 ms", align: "right", cell: (c) => fmt(c.totalMs.p99, 2) },
    { header: "errors", align: "right", cell: (c) => c.errors },
  ];
  return markdownTable(columns, rows);
}

function overheadTable(results: OverheadResults): string {
  const rows = COMPARISONS.flatMap((cmp) => results.overheads.filter((o) => o.path === cmp.path && o.baseline === cmp.baseline));
  const columns: Column<Overhead>[] = [
    { header: "path", cell: (o) => PATH_LABELS[o.path] },
    { header: "over", cell: (o) => PATH_LABELS[o.baseline] },
    { header: "mode", cell: (o) => (o.stream ? "stream" : "non-stream") },
    { header: "concurrent", align: "right", cell: (o) => o.concurrency },
    { header: "TTFT/TTFB p50", align: "right", cell: (o) => deltaText(o.ttftP50) },
    { header: "TTFT/TTFB p99", align: "right", cell: (o) => deltaText(o.ttftP99) },
    { header: "total p50", align: "right", cell: (o) => deltaText(o.totalP50) },
    { header: "total p99", align: "right", cell: (o) => deltaText(o.totalP99) },
  ];
  return markdownTable(columns, rows);
}

function headlineTable(results: OverheadResults): string {
  type Row = { label: string; stream: boolean; pick: (o: Overhead | undefined) => Delta | undefined };
  const rows: Row[] = [
    { label: "stream: time to first token, median", stream: true, pick: (o) => o?.ttftP50 },
    { label: "stream: time to first token, p99", stream: true, pick: (o) => o?.ttftP99 },
    { label: "stream: total, median", stream: true, pick: (o) => o?.totalP50 },
    { label: "stream: total, p99", stream: true, pick: (o) => o?.totalP99 },
    { label: "non-stream: total, median", stream: false, pick: (o) => o?.totalP50 },
    { label: "non-stream: total, p99", stream: false, pick: (o) => o?.totalP99 },
  ];
  const against = (path: PathId, baseline: PathId) => (r: Row) => deltaText(r.pick(findOverhead(results, { path, baseline, concurrency: HEADLINE_CONCURRENCY, stream: r.stream })));
  return markdownTable<Row>(
    [
      { header: `at ${HEADLINE_CONCURRENCY} concurrent`, cell: (r) => r.label },
      { header: "Altiplano over bare Worker", align: "right", cell: against("altiplano-miniflare", "bare-miniflare") },
      { header: "Portkey over bare Worker", align: "right", cell: against("portkey", "bare-miniflare") },
      { header: "Altiplano over direct", align: "right", cell: against("altiplano-miniflare", "direct") },
      { header: "Portkey over direct", align: "right", cell: against("portkey", "direct") },
    ],
    rows,
  );
}

/** The performance goals in one table: throughput against Portkey, and cost at one connection. */
function goalsTable(results: OverheadResults): string {
  const rps = (path: PathId, c: number, stream: boolean) => cell(results, path, c, stream)?.throughputRps ?? NaN;
  const at1 = (stream: boolean) => findOverhead(results, { path: "altiplano-miniflare", baseline: "bare-miniflare", concurrency: 1, stream });
  const rows: { goal: string; value: string }[] = [];
  for (const stream of [false, true]) {
    const a = rps("altiplano-miniflare", HEADLINE_CONCURRENCY, stream);
    const p = rps("portkey", HEADLINE_CONCURRENCY, stream);
    rows.push({
      goal: `${stream ? "streamed" : "non-streamed"} throughput at ${HEADLINE_CONCURRENCY} concurrent, Altiplano ÷ Portkey (goal ≥ 1.0)`,
      value: `${fmt(a, 0)} ÷ ${fmt(p, 0)} req/s = ×${fmt(a / p, 2)}`,
    });
  }
  rows.push({ goal: "non-streamed total at 1 connection, over the bare Worker, p50 (goal ≤ 1 ms)", value: deltaText(at1(false)?.totalP50) });
  rows.push({ goal: "time to first streamed token at 1 connection, over the bare Worker, p50 (goal ≤ 1 ms)", value: deltaText(at1(true)?.ttftP50) });
  return markdownTable<{ goal: string; value: string }>(
    [
      { header: "goal", cell: (r) => r.goal },
      { header: "this run", align: "right", cell: (r) => r.value },
    ],
    rows,
  );
}

function keySection(cells: KeyCell[] | null): string {
  if (cells === null || cells.length === 0) return "_Not measured in this run (the Altiplano Miniflare path was not selected)._";
  const table = markdownTable<KeyCell>(
    [
      { header: "workload", cell: (k) => KEY_WORKLOAD_LABELS[k.workload] },
      { header: "mode", cell: (k) => (k.stream ? "stream" : "non-stream") },
      { header: "concurrent", align: "right", cell: (k) => k.concurrency },
      { header: "req/s", align: "right", cell: (k) => fmt(k.throughputRps, 0) },
      { header: "TTFT/TTFB p50 ms", align: "right", cell: (k) => fmt(k.ttftMs.p50, 2) },
      { header: "total p50 ms", align: "right", cell: (k) => fmt(k.totalMs.p50, 2) },
      { header: "total p99 ms", align: "right", cell: (k) => fmt(k.totalMs.p99, 2) },
      { header: "errors", align: "right", cell: (k) => k.errors },
    ],
    cells,
  );
  const ratio = (stream: boolean) => {
    const one = cells.find((k) => k.stream === stream && k.workload === "one-key");
    const many = cells.find((k) => k.stream === stream && k.workload === "key-per-connection");
    return one && many ? `×${fmt(one.throughputRps / many.throughputRps, 2)}` : "–";
  };
  return `${table}

One key's throughput over many keys' (goal ≥ 1.0): non-streamed ${ratio(false)}, streamed ${ratio(true)}.`;
}

function callCountSection(counts: CallCounts | null): string {
  if (counts === null) return "_Not measured in this run (the Altiplano Miniflare path was not selected)._";
  const doText = (bucket: Record<string, number>): string =>
    Object.keys(bucket).length === 0 ? "0" : `${fmt(totalCalls(bucket), 2)} (${Object.entries(bucket).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(", ")})`;
  const table = markdownTable(
    [
      { header: "request", cell: (k: CallCounts["kinds"][number]) => k.description },
      { header: "D1 before GPU", align: "right", cell: (k) => fmt(k.mean.d1Before, 2) },
      { header: "D1 after", align: "right", cell: (k) => fmt(k.mean.d1After, 2) },
      { header: "DO calls before GPU", cell: (k) => doText(k.mean.doBefore) },
      { header: "DO calls after", cell: (k) => doText(k.mean.doAfter) },
      { header: "typical sequence", cell: (k) => k.typicalSequence },
    ],
    counts.kinds,
  );
  const load = counts.underLoad;
  return `${table}

Means over ${counts.kinds[0]?.samples ?? 0} traced requests of each kind, sent one at a time about
${SETTLE_NOTE}; "after" includes settlement in \`waitUntil\`. Fractions are calls made only by some
requests: the pool snapshot is fetched at most once per isolate per second, so at one request
every ~0.2 s about one request in five pays it. The key lookup is cached per isolate (the first
request of each kind, excluded here, may pay one D1 read).

Under load (${load.concurrency} concurrent streamed chat completions, ${load.requests} requests):
${fmt(load.d1PerRequest, 2)} D1 round trips per request; Durable Object calls per request:
${Object.entries(load.doPerRequest).map(([k, v]) => `${k} ${fmt(v, 3)}`).join(", ") || "none"}.`;
}

const SETTLE_NOTE = "150 ms apart (so background settlement finishes before the next)";

/** The Markdown summary. */
export function overheadMarkdown(results: OverheadResults): string {
  const c = results.config;
  const imgs = (files: readonly string[]): string => files.map((f) => `![](${f})`).join("\n");
  return `# Gateway overhead

Generated by \`npm run bench:overhead\` at ${results.generatedAt} in ${fmt(results.wallS, 0)} s (Node ${results.node},
${results.cpus} CPUs, 1-minute load average ${fmt(results.loadAverage.start, 1)} at start and
${fmt(results.loadAverage.end, 1)} at the end: a shared machine, so read the p99 columns with that in mind).

The same request, in one run, six ways: a chat completion (\`max_tokens\` ${c.maxTokens}, one short user
message), streamed and not, closed loop at ${c.concurrency.join(", ")} concurrent connections, each cell
${c.durationMs} ms measured after ${c.warmupMs} ms of warmup. The upstream is one vLLM simulator with no
latency (\`--fast --reply lorem\`, its own Node process), so what is left is the gateways' own cost.

| path | what it is |
| --- | --- |
| direct to simulator | the client talks to the simulator's \`/v1/chat/completions\` |
| bare Worker (Miniflare) | a Worker with no logic that forwards the body and streams the answer back, in workerd through Miniflare's API |
| Portkey gateway (Node) | \`@portkey-ai/gateway\` from npm, on Node, provider \`openai\` with the simulator as custom host. **It does less:** no auth, no state, no limits, no prompt rendering |
| Altiplano (Miniflare) | the full gateway in workerd through Miniflare (\`scripts/miniflare-runner.ts\`): key auth, limiter Durable Object, D1 usage ledger, Vicuna prompt + tokenizer, pool routing; the simulator joined its pool through an agent |
| bare Worker / Altiplano (wrangler dev) | the same two Workers under \`wrangler dev\`, whose local proxy sits in front of workerd |

TTFT = time to the first chunk with generated text (streams); TTFB = time to the first body byte
(non-streaming, where it is nearly the total). Rate limits are set far above the load, so the
limiter runs but never refuses.

## Goals

${goalsTable(results)}

## Headline: overhead at ${HEADLINE_CONCURRENCY} concurrent

${headlineTable(results)}

Ratios are of the two paths' own medians (or p99s); each gateway's numbers include the simulator's.

## Results

### Streaming

${cellTable(results, true)}

${imgs([CHART_FILES.ttftP50, CHART_FILES.ttftP99])}

### Non-streaming

${cellTable(results, false)}

${imgs([CHART_FILES.totalP50, CHART_FILES.totalP99])}

## Overhead, every comparison

${overheadTable(results)}

## wrangler dev vs Miniflare

The same Workers with \`wrangler dev\`'s proxy in front: its cost is local-only (production has no
such hop), which is why the gateway is measured under Miniflare.

${imgs([CHART_FILES.runtimes])}

## One hot key

Every key has one limiter Durable Object, so a key used by every connection (a community's bot)
sends every request through one object. The same request through the Miniflare gateway at
${results.keyScaling?.[0]?.concurrency ?? HEADLINE_CONCURRENCY} concurrent, with three kinds of callers, interleaved:

${keySection(results.keyScaling)}

## D1 round trips and Durable Object calls per request

Counted inside workerd by a bench-only entry (\`bench/overhead/counting-entry.js\`) that wraps the
real gateway's D1 and Durable Object bindings and its fetch to GPU workers; timings above come from
the unwrapped gateway.

${callCountSection(results.callCounts)}
`;
}
