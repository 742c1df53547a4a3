/**
 * The bot's counters, kept in fixed memory, and their Prometheus text form. Counting does no I/O;
 * the health server (health-server.ts) serves `renderPrometheus(metrics.snapshot(...))`.
 */
import { GatewayCallError } from "../discord/gateway-error.js";
import { FixedHistogram, type HistogramSnapshot } from "./histogram.js";

/** How a turn ended, as the user saw it. */
export type TurnOutcome = "complete" | "length" | "stopped" | "interrupted" | "failed";
export const TURN_OUTCOMES: readonly TurnOutcome[] = ["complete", "length", "stopped", "interrupted", "failed"];

/** Upper bounds (seconds) of the first-token-to-first-edit buckets: an edit is due within EDIT_INTERVAL_MS (1 s by default). */
export const FIRST_EDIT_BUCKETS_SECONDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/** At most this many distinct gateway error labels; the rest count as code "other" (labels must stay bounded). */
const MAX_ERROR_LABELS = 64;

/** Everything the bot counted, plus the gauges read at the moment of the snapshot. */
export interface MetricsSnapshot {
  turns: Record<TurnOutcome, number>;
  /** Failed gateway calls by `status` ("0" = unreachable) and OpenAI error `code`. */
  gatewayErrors: ReadonlyArray<{ status: string; code: string; count: number }>;
  rateLimitWaits: { count: number; seconds: number; globalCount: number };
  firstEdit: HistogramSnapshot;
  turnsInFlight: number;
  heapUsedBytes: number;
  uptimeSeconds: number;
}

/** The bot's counters. One instance per running bot. */
export class BotMetrics {
  readonly #turns: Record<TurnOutcome, number> = { complete: 0, length: 0, stopped: 0, interrupted: 0, failed: 0 };
  readonly #gatewayErrors = new Map<string, { status: string; code: string; count: number }>();
  readonly #rateLimit = { count: 0, seconds: 0, globalCount: 0 };
  readonly #firstEdit = new FixedHistogram(FIRST_EDIT_BUCKETS_SECONDS);

  turnFinished(outcome: TurnOutcome): void {
    this.#turns[outcome]++;
  }

  /** A gateway call that failed for good (after the client's own retries), or an error inside a stream. */
  gatewayError(error: GatewayCallError): void {
    const status = String(error.status);
    let code = error.code ?? "none";
    if (!this.#gatewayErrors.has(`${status} ${code}`) && this.#gatewayErrors.size >= MAX_ERROR_LABELS) code = "other";
    const key = `${status} ${code}`;
    const entry = this.#gatewayErrors.get(key) ?? { status, code, count: 0 };
    entry.count++;
    this.#gatewayErrors.set(key, entry);
  }

  /** discord.js is about to wait `waitMs` before a request because Discord's rate limit is used up. */
  discordRateLimited(args: { waitMs: number; global: boolean }): void {
    this.#rateLimit.count++;
    this.#rateLimit.seconds += Math.max(0, args.waitMs) / 1000;
    if (args.global) this.#rateLimit.globalCount++;
  }

  /** Time from the first token received from the gateway to the first Discord message showing it. */
  firstEdit(ms: number): void {
    this.#firstEdit.observe(ms / 1000);
  }

  snapshot(gauges: { turnsInFlight: number; heapUsedBytes: number; uptimeSeconds: number }): MetricsSnapshot {
    return {
      turns: { ...this.#turns },
      gatewayErrors: [...this.#gatewayErrors.values()].map((e) => ({ ...e })),
      rateLimitWaits: { ...this.#rateLimit },
      firstEdit: this.#firstEdit.snapshot(),
      ...gauges,
    };
  }
}

const label = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const num = (n: number): string => (n === Infinity ? "+Inf" : String(n));

/** The snapshot in Prometheus' text exposition format (version 0.0.4). Pure. */
export function renderPrometheus(s: MetricsSnapshot): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string, samples: string[]) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
  family(
    "altiplano_bot_turns_total",
    "counter",
    "Replies the bot finished, by how they ended.",
    TURN_OUTCOMES.map((o) => `altiplano_bot_turns_total{outcome="${o}"} ${s.turns[o]}`),
  );
  family(
    "altiplano_bot_gateway_errors_total",
    "counter",
    "Gateway calls that failed (status 0: unreachable), by status and error code.",
    s.gatewayErrors.map((e) => `altiplano_bot_gateway_errors_total{status="${label(e.status)}",code="${label(e.code)}"} ${e.count}`),
  );
  family("altiplano_bot_discord_rate_limit_waits_total", "counter", "Times discord.js waited for a Discord rate limit before a request.", [
    `altiplano_bot_discord_rate_limit_waits_total{global="false"} ${s.rateLimitWaits.count - s.rateLimitWaits.globalCount}`,
    `altiplano_bot_discord_rate_limit_waits_total{global="true"} ${s.rateLimitWaits.globalCount}`,
  ]);
  family("altiplano_bot_discord_rate_limit_wait_seconds_total", "counter", "Time spent waiting for Discord rate limits.", [
    `altiplano_bot_discord_rate_limit_wait_seconds_total ${s.rateLimitWaits.seconds}`,
  ]);
  const h = s.firstEdit;
  let cumulative = 0;
  const buckets = h.counts.map((c, i) => {
    cumulative += c;
    return `altiplano_bot_first_token_to_first_edit_seconds_bucket{le="${num(h.bounds[i] ?? Infinity)}"} ${cumulative}`;
  });
  family("altiplano_bot_first_token_to_first_edit_seconds", "histogram", "From the first token received from the gateway to the first Discord message showing it.", [
    ...buckets,
    `altiplano_bot_first_token_to_first_edit_seconds_sum ${h.sum}`,
    `altiplano_bot_first_token_to_first_edit_seconds_count ${h.count}`,
  ]);
  family("altiplano_bot_turns_in_flight", "gauge", "Replies being written right now.", [`altiplano_bot_turns_in_flight ${s.turnsInFlight}`]);
  family("altiplano_bot_heap_used_bytes", "gauge", "V8 heap in use.", [`altiplano_bot_heap_used_bytes ${s.heapUsedBytes}`]);
  family("altiplano_bot_uptime_seconds", "gauge", "Seconds since the bot started.", [`altiplano_bot_uptime_seconds ${s.uptimeSeconds}`]);
  return `${out.join("\n")}\n`;
}
