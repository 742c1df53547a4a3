/**
 * Drives one stored conversation through the gateway, turn after turn, one request at a time on
 * one keep-alive connection, until its history fills the model's window: the first turn whose
 * prompt had to leave old messages out is its last.
 */
import http from "node:http";
import { z } from "zod";
import type { TurnSample } from "./analysis.js";
import { prng, userMessage } from "./text.js";

const REQUEST_TIMEOUT_MS = 60_000;
// workers/chat/answer.ts' DROPPED_MESSAGES_HEADER (not imported: that would load the gateway into this process).
const DROPPED_MESSAGES = "x-altiplano-dropped-messages";

const Created = z.object({ id: z.string() });
const Completion = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string() }), finish_reason: z.string().nullable() })).min(1),
  usage: z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int() }),
});

export interface Gateway {
  url: string;
  key: string;
}

export interface ConversationOptions {
  index: number;
  seed: number;
  maxTokens: number;
  minSentences: number;
  maxSentences: number;
  /** CPU counters sampled at each turn's start; null = not measured. */
  cpu: { workerd: () => number; sim: () => number } | null;
}

// Microseconds are all the clock and /proc resolve usefully; more digits only bloat turns.json.
const us = (ms: number): number => Math.round(ms * 1000) / 1000;

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function post(url: string, key: string, body: unknown): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(
      url,
      {
        method: "POST",
        agent,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/** Runs one conversation to a full window; returns its turns (CPU filled in from turn start to the next start). */
export async function runConversation(g: Gateway, o: ConversationOptions): Promise<TurnSample[]> {
  const created = await post(`${g.url}/v1/conversations`, g.key, { external_id: `bench-turns-${o.seed}-${o.index}` });
  if (created.status !== 201 && created.status !== 200) throw new Error(`creating a conversation: ${created.status} ${created.text}`);
  const { id } = Created.parse(JSON.parse(created.text));
  // One stream per conversation, so adding conversations never changes the earlier ones' texts.
  const r = prng((o.seed * 1_000_003 + o.index) >>> 0);
  const samples: TurnSample[] = [];
  let cpuAtStart: { workerd: number; sim: number } | null = null;
  const closeLast = (now: { workerd: number; sim: number } | null): void => {
    const last = samples[samples.length - 1];
    if (last && cpuAtStart && now) {
      last.workerdCpuMs = us(now.workerd - cpuAtStart.workerd);
      last.simCpuMs = us(now.sim - cpuAtStart.sim);
    }
  };
  const sampleCpu = (): { workerd: number; sim: number } | null => (o.cpu ? { workerd: o.cpu.workerd(), sim: o.cpu.sim() } : null);

  for (let turn = 1; ; turn++) {
    const content = userMessage(r, o.minSentences + r.int(o.maxSentences - o.minSentences + 1));
    const cpuNow = sampleCpu();
    closeLast(cpuNow);
    cpuAtStart = cpuNow;
    const t0 = performance.now();
    const res = await post(`${g.url}/v1/conversations/${id}/messages`, g.key, { content, max_tokens: o.maxTokens });
    const totalMs = us(performance.now() - t0);
    if (res.status !== 200) throw new Error(`turn ${turn} of conversation ${o.index}: ${res.status} ${res.text}`);
    const answer = Completion.parse(JSON.parse(res.text));
    if (answer.usage.completion_tokens !== o.maxTokens) {
      throw new Error(`turn ${turn}: the simulator wrote ${answer.usage.completion_tokens} tokens, not ${o.maxTokens}; start it with --reply-length max`);
    }
    const droppedMessages = Number(res.headers[DROPPED_MESSAGES] ?? 0);
    samples.push({ conversation: o.index, turn, promptTokens: answer.usage.prompt_tokens, droppedMessages, totalMs, workerdCpuMs: null, simCpuMs: null });
    // The window is full once the gateway had to leave old turns out; later turns would all cost the same.
    if (droppedMessages > 0) break;
  }
  // The last turn's span ends once its background work (settlement, metrics) has had time to run.
  await new Promise((resolve) => setTimeout(resolve, 50));
  closeLast(sampleCpu());
  return samples;
}

export function closeConnections(): void {
  agent.destroy();
}
