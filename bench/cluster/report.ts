/** Turns the cluster sweep's raw results into the Markdown summary and its two SVG charts. */
import { fmt, markdownTable, pct } from "../lib/markdown.js";
import { lineChart } from "../lib/svg-chart.js";
import type { Capacity } from "./capacity.js";
import type { ClusterConfig } from "./config.js";
import type { PolicyName } from "./policies.js";
import type { RoutingCost } from "./routing-cost.js";
import type { SimulationResult } from "./simulation.js";

/** One point of the sweep: a policy at an offered load. */
export interface SweepRun extends SimulationResult {
  load: number;
  offeredRps: number;
  sessionsPerS: number;
}

/** Everything bench/results/cluster.json holds. */
export interface ClusterResults {
  generatedAt: string;
  node: string;
  cpus: number;
  wallS: number;
  /** CPU time of the whole process, all threads: what the run costs on an idle machine. */
  cpuS: number;
  config: ClusterConfig;
  capacity: Omit<Capacity, "run">;
  routingCost: RoutingCost[];
  runs: SweepRun[];
}

export const P99_CHART_FILE = "cluster-p99-ttft.svg";
export const HIT_RATE_CHART_FILE = "cluster-hit-rate.svg";

const HEADLINE_LOAD = 0.8;

/** Ours against the best baseline (per metric) at the load closest to 80 %. */
export interface Headline {
  load: number;
  ours: SweepRun;
  bestP99: SweepRun;
  bestHitRate: SweepRun;
}

export function headline(runs: readonly SweepRun[]): Headline | null {
  const loads = [...new Set(runs.map((r) => r.load))];
  if (loads.length === 0) return null;
  const load = loads.reduce((a, b) => (Math.abs(b - HEADLINE_LOAD) < Math.abs(a - HEADLINE_LOAD) ? b : a));
  const at = runs.filter((r) => r.load === load);
  const ours = at.find((r) => r.policy === "ours");
  const baselines = at.filter((r) => r.policy !== "ours");
  if (ours === undefined || baselines.length === 0) return null;
  const bestP99 = baselines.reduce((a, b) => (b.ttftMs.p99 < a.ttftMs.p99 ? b : a));
  const bestHitRate = baselines.reduce((a, b) => (b.prefixCacheHitRate > a.prefixCacheHitRate ? b : a));
  return { load, ours, bestP99, bestHitRate };
}

/** The p99-TTFT and hit-rate charts as SVG strings. */
export function charts(results: ClusterResults): { p99Svg: string; hitRateSvg: string } {
  const policies = [...new Set(results.runs.map((r) => r.policy))];
  const series = (metric: (r: SweepRun) => number) =>
    policies.map((policy) => ({
      name: policy,
      emphasis: policy === "ours",
      points: results.runs
        .filter((r) => r.policy === policy)
        .sort((a, b) => a.load - b.load)
        .map((r) => ({ x: r.load * 100, y: metric(r) })),
    }));
  const subtitle = `${results.config.workers} simulated vLLM workers, multi-turn chat`;
  const p99Svg = lineChart({
    title: `p99 time to first token vs offered load (${subtitle})`,
    xLabel: "offered load, % of measured capacity",
    yLabel: "p99 TTFT (ms, log scale)",
    yScale: "log",
    series: series((r) => r.ttftMs.p99),
    xFormat: (v) => `${Math.round(v)}%`,
  });
  const hitRateSvg = lineChart({
    title: `Prefix-cache hit rate vs offered load (${subtitle})`,
    xLabel: "offered load, % of measured capacity",
    yLabel: "cached prompt tokens / prompt tokens",
    yDomain: [0, 1],
    series: series((r) => r.prefixCacheHitRate),
    xFormat: (v) => `${Math.round(v)}%`,
    yFormat: (v) => `${Math.round(v * 100)}%`,
  });
  return { p99Svg, hitRateSvg };
}

/** The Markdown report. */
export function markdownReport(results: ClusterResults): string {
  const c = results.config;
  const cap = results.capacity;
  const h = headline(results.runs);
  const meanTurns = (c.turnsMin + c.turnsMax) / 2;
  const lines: string[] = [];
  lines.push("# Routing in a cluster simulation");
  lines.push("");
  lines.push(
    `Generated ${results.generatedAt} by \`npm run bench:cluster${c.quick ? " -- --quick" : ""}\` in ${fmt(results.wallS, 0)} s wall, ` +
      `${fmt(results.cpuS, 0)} s CPU over all threads (Node ${results.node}, ${results.cpus} CPUs). Raw numbers: [cluster.json](cluster.json).`,
  );
  lines.push("");
  if (h !== null) {
    lines.push(`## Headline (${Math.round(h.load * 100)} % load)`);
    lines.push("");
    lines.push(
      `- **p99 TTFT**: ours ${fmt(h.ours.ttftMs.p99, 0)} ms vs ${fmt(h.bestP99.ttftMs.p99, 0)} ms for the best baseline (${h.bestP99.policy}) — ` +
        `${ratioText(h.ours.ttftMs.p99, h.bestP99.ttftMs.p99)}; mean TTFT ${fmt(h.ours.ttftMs.mean, 0)} vs ${fmt(h.bestP99.ttftMs.mean, 0)} ms, ` +
        `p50 ${fmt(h.ours.ttftMs.p50, 0)} vs ${fmt(h.bestP99.ttftMs.p50, 0)} ms.`,
    );
    lines.push(
      `- **Prefix-cache hit rate**: ours ${pct(h.ours.prefixCacheHitRate)} vs ${pct(h.bestHitRate.prefixCacheHitRate)} for the best baseline (${h.bestHitRate.policy}).`,
    );
    const aff = h.ours.affinity;
    const total = (aff.pinned ?? 0) + (aff["load-broken"] ?? 0) + (aff.none ?? 0);
    if (total > 0) {
      lines.push(`- Ours kept the conversation's worker for ${pct((aff.pinned ?? 0) / total)} of turns and broke affinity for load or KV for ${pct((aff["load-broken"] ?? 0) / total)}.`);
    }
    lines.push("");
  }
  lines.push(
    "Reading the results: the median and mean TTFT fall with affinity because a returning conversation's prefix is still in its " +
      "worker's cache, so only the new message and the previous answer are prefilled. The p99 moves less: it is made of prompts " +
      "that no worker has cached (long first messages, conversations truncated to fit the window), which no routing can speed up, " +
      "plus queueing once workers fill up — where the load gate has to trade cache hits for balance.",
  );
  lines.push("");
  lines.push(`![p99 TTFT against load](${P99_CHART_FILE})`);
  lines.push("");
  lines.push(`![Prefix-cache hit rate against load](${HIT_RATE_CHART_FILE})`);
  lines.push("");
  lines.push("## Results per policy and load");
  lines.push("");
  lines.push(
    "TTFT is measured from the request reaching the gateway to its first token. Output tokens/s counts completions inside " +
      "the measurement window. Hit rate = cached prompt tokens / prompt tokens (vLLM's prefix_cache_hits / queries). " +
      "Load imbalance = max / mean over workers of output tokens served in the window (1.00 = perfectly even). " +
      "Requests = turns arriving in the window: slower answers delay a session's next turn, so a slow policy sees fewer.",
  );
  lines.push("");
  const sorted = [...results.runs].sort((a, b) => a.load - b.load || policyOrder(a.policy) - policyOrder(b.policy));
  lines.push(
    markdownTable<SweepRun>(
      [
        { header: "load", align: "right", cell: (r) => `${Math.round(r.load * 100)} %` },
        { header: "policy", cell: (r) => (r.policy === "ours" ? "**ours**" : r.policy) },
        { header: "requests", align: "right", cell: (r) => r.measuredRequests },
        { header: "TTFT mean ms", align: "right", cell: (r) => fmt(r.ttftMs.mean, 0) },
        { header: "TTFT p50 ms", align: "right", cell: (r) => fmt(r.ttftMs.p50, 0) },
        { header: "TTFT p99 ms", align: "right", cell: (r) => fmt(r.ttftMs.p99, 0) },
        { header: "output tok/s", align: "right", cell: (r) => fmt(r.outputTokensPerS, 0) },
        { header: "hit rate", align: "right", cell: (r) => pct(r.prefixCacheHitRate) },
        { header: "imbalance", align: "right", cell: (r) => fmt(r.loadImbalance, 2) },
      ],
      sorted,
    ),
  );
  lines.push("");
  lines.push("## Cost of one routing decision");
  lines.push("");
  lines.push(
    "Wall-clock time of one `routeRequest` call (workers/pool/routing.ts) on this machine, each call timed on its own after a warm-up; " +
      "a snapshot with varied loads, a few workers draining or in cooldown, conversation keys cycling through 1,000.",
  );
  lines.push("");
  lines.push(
    markdownTable<RoutingCost>(
      [
        { header: "workers", align: "right", cell: (r) => r.workers },
        { header: "calls", align: "right", cell: (r) => r.iterations },
        { header: "median µs", align: "right", cell: (r) => fmt(r.medianUs, 2) },
        { header: "p99 µs", align: "right", cell: (r) => fmt(r.p99Us, 2) },
        { header: "mean µs", align: "right", cell: (r) => fmt(r.meanUs, 2) },
      ],
      results.routingCost,
    ),
  );
  lines.push("");
  lines.push("## Set-up");
  lines.push("");
  lines.push(
    `- **Cluster**: ${c.workers} workers, each a vLLM scheduler as the simulator models it (gpu-backend/sim: \`latency-model.ts\`, \`prefix-cache.ts\`, ` +
      `the engine's semantics): at most ${c.maxNumSeqs} running sequences (\`max_num_seqs\`) and a FIFO waiting queue; prefill costs ` +
      `the uncached prompt tokens at the current batch size; each output token one inter-token latency at the current batch size ` +
      `(continuous batching); an LRU prefix cache of ${c.cacheBlocks} blocks of 16 tokens (${Math.round((c.cacheBlocks * 16) / 1000)}k tokens) per worker, ` +
      "filled with each prompt after its prefill. Latency parameters: the simulator's defaults (DEFAULT_LATENCY).",
  );
  lines.push(
    `- **Workload**: multi-turn chat sessions of ${c.turnsMin}–${c.turnsMax} turns (uniform), exponential think time of mean ${c.thinkTimeMeanS} s between an answer and the next message; ` +
      `user messages lognormal (median ${c.userTokensMedian}, σ ${c.userTokensSigma}: mean ≈ 161 tokens), answers lognormal (median ${c.answerTokensMedian}, σ ${c.answerTokensSigma}, ` +
      `at most ${c.maxAnswerTokens}: mean ≈ 330 tokens) — the per-request means reported for ShareGPT in the vLLM paper. ` +
      `Each prompt = Vicuna's ${c.defaultSystemTokens}-token system line (+ for ${pct(c.sharedSystemPromptFraction, 0)} of sessions one of ${c.sharedSystemPrompts} shared ` +
      `${c.sharedSystemPromptTokens}-token app prompts) + the whole conversation so far + the new message, oldest turns dropped to fit ${c.contextTokens} tokens.`,
  );
  lines.push(
    `- **Load**: sessions arrive as a Poisson process for ${c.durationS} s of virtual time; requests arriving from ${c.warmupS} s on are measured. ` +
      `Offered load x % = x % × capacity requests/s, i.e. ${fmt(meanTurns, 1)} turns per session at x % × capacity / ${fmt(meanTurns, 1)} sessions/s.`,
  );
  lines.push(
    cap.measured
      ? `- **Capacity** (100 %): ${fmt(cap.requestsPerS, 1)} requests/s (${fmt(cap.outputTokensPerS, 0)} output tokens/s), measured by a closed-loop run of ` +
          `${cap.population} concurrent sessions (4 × the cluster's batch slots, so every worker always has a queue) routed least-loaded, ` +
          `counting completions between ${cap.windowS[0]} s and ${cap.windowS[1]} s. A policy whose cache hits shorten prefills can sustain a little more than this.`
      : `- **Capacity** (100 %): ${fmt(cap.requestsPerS, 1)} requests/s, given with --capacity-rps.`,
  );
  lines.push(
    "- **Policies**: `random`; `round-robin`; `fastchat` = FastChat's controller with shortest_queue dispatch (fastchat/serve/controller.py): each worker's " +
      `queue length is overwritten only by its heartbeat, every ${c.fastchatHeartbeatIntervalS} s (WORKER_HEART_BEAT_INTERVAL), the controller picks ` +
      "argmin(queue_length / speed) and adds one to the winner's count; `least-loaded` = an oracle that sees every worker's exact running + waiting at the " +
      `moment of the decision; \`ours\` = the gateway's routeRequest with DEFAULT_ROUTING_OPTIONS, fed a heartbeat snapshot per worker every ${c.heartbeatIntervalMs} ms ` +
      "plus the requests it sent since (inFlight); conversation id = the session. Admission control is off in the comparison (the baselines have none), so every request completes.",
  );
  lines.push("");
  lines.push("## Limits of the model");
  lines.push("");
  lines.push(
    "- Like the simulator, only prompts are cached, not generated tokens (vLLM caches full blocks of the answer too, which would raise the hit rate of every " +
      "policy that returns a conversation to the same worker), and admission is limited by max_num_seqs, not by free KV blocks.",
  );
  lines.push("- Decoding is a fluid: all sequences of a worker advance at 1 / ITL(batch); the ±jitter of the inter-token latency (mean zero) is left out.");
  lines.push("- One gateway isolate: in production several isolates each count only their own in-flight requests between snapshots.");
  lines.push("- No network time between gateway and workers; no failures.");
  lines.push("");
  return lines.join("\n");
}

function ratioText(ours: number, other: number): string {
  if (!Number.isFinite(ours) || !Number.isFinite(other) || other === 0) return "n/a";
  return ours <= other ? `${pct(1 - ours / other)} lower` : `${pct(ours / other - 1)} higher`;
}

const ORDER: readonly PolicyName[] = ["random", "round-robin", "fastchat", "least-loaded", "ours"];
function policyOrder(p: PolicyName): number {
  return ORDER.indexOf(p);
}
