/**
 * Counts D1 round trips and Durable Object calls per request against the gateway started with the
 * counting entry (counting-entry.js): traced requests one at a time, each split at its first call
 * to the GPU; then totals over a short concurrent run, which include the pool snapshot calls
 * (one per isolate per second) spread over every request.
 */
import { z } from "zod";
import { meanSplit, splitAtUpstream, type CallSplit } from "./analysis.js";
import type { Altiplano } from "./altiplano.js";
import { runCell } from "./http-load.js";

// After a response ends, its settlement still runs in waitUntil; wait before reading the trace.
const SETTLE_WAIT_MS = 150;

const TraceBody = z.object({ events: z.array(z.object({ kind: z.enum(["d1", "do", "upstream"]), name: z.string() })) });
const TotalsBody = z.object({ requests: z.number(), d1: z.number(), do: z.record(z.string(), z.number()), upstream: z.number() });
const ConversationBody = z.object({ id: z.string() });

export interface KindCounts {
  kind: string;
  description: string;
  samples: number;
  /** Mean per request (the first request of each kind, which may look up the key, excluded). */
  mean: CallSplit;
  /** The most frequent exact sequence of calls, e.g. "DO RATE_LIMITER.admit → GPU → D1". */
  typicalSequence: string;
}

export interface UnderLoad {
  concurrency: number;
  requests: number;
  d1PerRequest: number;
  doPerRequest: Record<string, number>;
}

export interface CallCounts {
  kinds: KindCounts[];
  underLoad: UnderLoad;
}

function sequenceText(events: z.infer<typeof TraceBody>["events"]): string {
  return events.map((e) => (e.kind === "upstream" ? "GPU" : e.kind === "d1" ? `D1 ${e.name}` : `DO ${e.name}`)).join(" → ");
}

function mostFrequent(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "";
}

/** Measures call counts per kind of request; `samples` traced requests per kind. */
export async function measureCallCounts(o: { gateway: Altiplano; samples: number; maxTokens: number; log: (line: string) => void }): Promise<CallCounts> {
  const { gateway } = o;
  const post = async (path: string, key: string, body: unknown, trace?: string): Promise<Response> =>
    fetch(`${gateway.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...(trace ? { "x-bench-trace": trace } : {}) },
      body: JSON.stringify(body),
    });
  const chat = (stream: boolean, user?: string) => ({
    model: "vicuna-13b-v1.5",
    messages: [{ role: "user", content: "Write one short sentence about llamas." }],
    max_tokens: o.maxTokens,
    stream,
    ...(user ? { user } : {}),
  });
  const created = await post("/v1/conversations", gateway.userKey, { system_prompt: "You are a helpful llama." });
  if (created.status !== 201) throw new Error(`creating a conversation failed: ${created.status} ${await created.text()}`);
  const conversationId = ConversationBody.parse(await created.json()).id;
  const turn = (stream: boolean) => ({ content: "Write one short sentence about llamas.", max_tokens: o.maxTokens, stream });

  const kinds = [
    { kind: "chat", description: "chat completion, not streamed", key: gateway.userKey, path: "/v1/chat/completions", body: chat(false) },
    { kind: "chat-stream", description: "chat completion, streamed", key: gateway.userKey, path: "/v1/chat/completions", body: chat(true) },
    { kind: "chat-end-user", description: "chat completion of a bot key for an end user (`user`)", key: gateway.botKey, path: "/v1/chat/completions", body: chat(false, "end-user-1") },
    { kind: "turn", description: "conversation turn, not streamed", key: gateway.userKey, path: `/v1/conversations/${conversationId}/messages`, body: turn(false) },
    { kind: "turn-stream", description: "conversation turn, streamed", key: gateway.userKey, path: `/v1/conversations/${conversationId}/messages`, body: turn(true) },
  ];

  const results: KindCounts[] = [];
  for (const k of kinds) {
    const splits: CallSplit[] = [];
    const sequences: string[] = [];
    for (let i = 0; i <= o.samples; i++) {
      const trace = `${k.kind}-${i}-${Date.now()}`;
      const res = await post(k.path, k.key, k.body, trace);
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${k.kind} failed: ${res.status} ${text.slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, SETTLE_WAIT_MS));
      const traced = await fetch(`${gateway.url}/__bench/trace/${encodeURIComponent(trace)}`);
      const { events } = TraceBody.parse(await traced.json());
      if (i === 0) continue; // may include the key lookup of a cold isolate cache
      splits.push(splitAtUpstream(events));
      sequences.push(sequenceText(events));
    }
    const result = { kind: k.kind, description: k.description, samples: splits.length, mean: meanSplit(splits), typicalSequence: mostFrequent(sequences) };
    o.log(`calls per ${k.description}: ${result.typicalSequence}`);
    results.push(result);
  }

  const totals = async () => TotalsBody.parse(await (await fetch(`${gateway.url}/__bench/totals`)).json());
  const before = await totals();
  const concurrency = 16;
  const run = await runCell({
    request: { url: `${gateway.url}/v1/chat/completions`, headers: { authorization: `Bearer ${gateway.userKey}` }, body: JSON.stringify(chat(true)), stream: true },
    concurrency,
    warmupMs: 0,
    durationMs: 2_000,
  });
  await new Promise((r) => setTimeout(r, SETTLE_WAIT_MS));
  const after = await totals();
  const requests = after.requests - before.requests;
  const doPerRequest: Record<string, number> = {};
  for (const [name, n] of Object.entries(after.do)) {
    const added = n - (before.do[name] ?? 0);
    if (added > 0) doPerRequest[name] = added / Math.max(1, requests);
  }
  if (run.errors > 0) o.log(`under load: ${run.errors} errors, e.g. ${run.errorExamples[0] ?? ""}`);
  return { kinds: results, underLoad: { concurrency, requests, d1PerRequest: (after.d1 - before.d1) / Math.max(1, requests), doPerRequest } };
}
