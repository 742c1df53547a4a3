/**
 * Prometheus text for GET /metrics with vLLM's metric names, help texts and labels
 * (`engine`, `model_name`), so the agent and dashboards read the simulator like vLLM.
 */

/** vLLM's bucket bounds for vllm:time_to_first_token_seconds. */
export const TTFT_BUCKETS_SECONDS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
  160.0, 640.0, 2560.0,
] as const;

/** Counters and the TTFT histogram; gauges are read from the engine when rendering. */
export class SimCounters {
  promptTokens = 0;
  generationTokens = 0;
  readonly ttftBucketCounts: number[] = TTFT_BUCKETS_SECONDS.map(() => 0);
  ttftCount = 0;
  ttftSumSeconds = 0;

  /** Records one time-to-first-token observation. */
  observeTtft(seconds: number): void {
    this.ttftCount++;
    this.ttftSumSeconds += seconds;
    TTFT_BUCKETS_SECONDS.forEach((bound, i) => {
      if (seconds <= bound) this.ttftBucketCounts[i]!++;
    });
  }
}

/** Everything one scrape shows. */
export interface MetricsSnapshot {
  modelName: string;
  running: number;
  waiting: number;
  /** 0..1 */
  kvCacheUsage: number;
  prefixCacheQueries: number;
  prefixCacheHits: number;
  counters: SimCounters;
}

/** Prometheus prints floats; prometheus_client writes whole numbers as `1.0`. */
function num(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

function escapeLabel(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** The exposition text (format 0.0.4). */
export function renderMetrics(s: MetricsSnapshot): string {
  const labels = `engine="0",model_name="${escapeLabel(s.modelName)}"`;
  const lines: string[] = [];
  const scalar = (name: string, type: "gauge" | "counter", help: string, value: number): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{${labels}} ${num(value)}`);
  };
  scalar("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", s.running);
  scalar("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", s.waiting);
  scalar("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", s.kvCacheUsage);
  scalar("vllm:prefix_cache_queries_total", "counter", "Prefix cache queries, in terms of number of queried tokens.", s.prefixCacheQueries);
  scalar("vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.", s.prefixCacheHits);
  scalar("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", s.counters.promptTokens);
  scalar("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", s.counters.generationTokens);

  const h = "vllm:time_to_first_token_seconds";
  lines.push(`# HELP ${h} Histogram of time to first token in seconds.`, `# TYPE ${h} histogram`);
  TTFT_BUCKETS_SECONDS.forEach((bound, i) => {
    lines.push(`${h}_bucket{${labels},le="${num(bound)}"} ${num(s.counters.ttftBucketCounts[i]!)}`);
  });
  lines.push(`${h}_bucket{${labels},le="+Inf"} ${num(s.counters.ttftCount)}`);
  lines.push(`${h}_count{${labels}} ${num(s.counters.ttftCount)}`);
  lines.push(`${h}_sum{${labels}} ${num(s.counters.ttftSumSeconds)}`);
  return `${lines.join("\n")}\n`;
}
