/**
 * One hot key against many: the same chat completion at the same concurrency through the full
 * gateway, sent by every connection with one key (each request's limiter is the same Durable
 * Object), with a key per connection (one object each), and with one bot key for a different end
 * user per connection (the Discord bot's case: two limiters per request, the key's shared by
 * all). Workloads are interleaved per round so drift in machine load hits them alike.
 */
import { summarizeCell, type CellResult } from "./analysis.js";
import type { LoadRequest } from "./http-load.js";
import { runCell } from "./http-load.js";

export const KEY_WORKLOADS = ["one-key", "key-per-connection", "bot-end-users"] as const;
export type KeyWorkload = (typeof KEY_WORKLOADS)[number];

export const KEY_WORKLOAD_LABELS: Record<KeyWorkload, string> = {
  "one-key": "one key for every connection",
  "key-per-connection": "a key per connection",
  "bot-end-users": "one bot key, an end user per connection",
};

/** A cell of the main table, for a caller workload instead of a path. */
export type KeyCell = Omit<CellResult, "path"> & { workload: KeyWorkload };

export interface KeyScalingInput {
  url: string;
  /** A user key (the one-key workload uses it; the main cells use it too). */
  userKey: string;
  botKey: string;
  /** Creates one more user key. */
  newUserKey(): Promise<string>;
  body(stream: boolean): Record<string, unknown>;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  log(message: string): void;
}

/** Runs the three workloads, streamed and not, at `concurrency`. */
export async function measureKeyScaling(o: KeyScalingInput): Promise<KeyCell[]> {
  const keys: string[] = [];
  for (let i = 0; i < o.concurrency; i++) keys.push(await o.newUserKey());
  const request = (stream: boolean, key: string, extra: Record<string, unknown> = {}): LoadRequest => ({
    url: `${o.url}/v1/chat/completions`,
    headers: { authorization: `Bearer ${key}` },
    body: JSON.stringify({ ...o.body(stream), ...extra }),
    stream,
  });
  const requestFor: Record<KeyWorkload, (stream: boolean) => (connection: number) => LoadRequest> = {
    "one-key": (stream) => () => request(stream, o.userKey),
    "key-per-connection": (stream) => (connection) => request(stream, keys[connection]!),
    "bot-end-users": (stream) => (connection) => request(stream, o.botKey, { user: `member-${connection}` }),
  };
  const cells: KeyCell[] = [];
  for (const stream of [false, true]) {
    for (const workload of KEY_WORKLOADS) {
      const run = await runCell({ request: requestFor[workload](stream), concurrency: o.concurrency, warmupMs: o.warmupMs, durationMs: o.durationMs });
      const { path: _path, ...summary } = summarizeCell({ path: "altiplano-miniflare", concurrency: o.concurrency, stream }, run);
      cells.push({ workload, ...summary });
      o.log(
        `keys: ${stream ? "stream" : "non-stream"} c=${o.concurrency} ${KEY_WORKLOAD_LABELS[workload]}: ${summary.throughputRps.toFixed(0)} req/s` +
          (summary.errors > 0 ? `, ${summary.errors} errors (${summary.errorExamples[0] ?? ""})` : ""),
      );
    }
  }
  return cells;
}
