/**
 * GET /metrics on the running stack (wrangler dev + two simulators with agents): after a few chat
 * completions through the openai SDK, the request counters, generated tokens and the TTFT
 * histogram count them, and the per-worker gauges list both simulators as ready.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";

const MODEL = "vicuna-13b-v1.5";
const METRICS_TOKEN = "e2e-metrics-token";
const NON_STREAMED = 3;
const STREAMED = 2;
/** Counters reach the metrics object within about a second of a request (the isolate's flush interval). */
const COUNTERS_DEADLINE_MS = 20_000;

let stack: Stack;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack({ sims: 2, sim: { reply: "lorem", fast: true }, vars: { METRICS_TOKEN } });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.userKey, maxRetries: 0 });
});

afterAll(async () => {
  await stack?.stop();
});

type Sample = { name: string; labels: Record<string, string>; value: number };

/** Parses Prometheus text samples (comments skipped); throws on a line that is neither. */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparseable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[label[1]!] = label[2]!;
    samples.push({ name: match[1]!, labels, value: match[3] === "+Inf" ? Number.POSITIVE_INFINITY : Number(match[3]) });
  }
  return samples;
}

function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function scrape(token: string | null = METRICS_TOKEN): Promise<{ status: number; text: string }> {
  const res = await fetch(`${stack.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text() };
}

describe("GET /metrics on the running stack", () => {
  it("refuses a scrape without credentials", async () => {
    const res = await scrape(null);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text)).toMatchObject({ error: { type: "authentication_error" } });
  });

  it("counts chat completions, their tokens and time to first token, and lists both workers", async () => {
    let completionTokens = 0;
    for (let i = 0; i < NON_STREAMED; i++) {
      const completion = await client.chat.completions.create({ model: MODEL, max_tokens: 24, messages: [{ role: "user", content: `Question ${i}` }] });
      completionTokens += completion.usage?.completion_tokens ?? 0;
    }
    for (let i = 0; i < STREAMED; i++) {
      const stream = await client.chat.completions.create({
        model: MODEL,
        max_tokens: 24,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content: `Streamed question ${i}` }],
      });
      for await (const chunk of stream) completionTokens += chunk.usage?.completion_tokens ?? 0;
    }
    const requests = NON_STREAMED + STREAMED;
    const model = { model: MODEL };
    const answered = (samples: Sample[]) =>
      (valueOf(samples, "altiplano_requests_total", { ...model, outcome: "complete" }) ?? 0) +
      (valueOf(samples, "altiplano_requests_total", { ...model, outcome: "length" }) ?? 0);

    const deadline = Date.now() + COUNTERS_DEADLINE_MS;
    let samples: Sample[] = [];
    for (;;) {
      const res = await scrape();
      expect(res.status).toBe(200);
      samples = parseSamples(res.text);
      if (answered(samples) >= requests || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }

    expect(answered(samples)).toBe(requests);
    expect(valueOf(samples, "altiplano_requests_total", { ...model, outcome: "failed" })).toBe(0);
    expect(valueOf(samples, "altiplano_requests_total", { ...model, outcome: "cancelled" })).toBe(0);
    expect(valueOf(samples, "altiplano_generated_tokens_total", model)).toBe(completionTokens);
    expect(valueOf(samples, "altiplano_time_to_first_token_seconds_count", model)).toBe(requests);
    expect(valueOf(samples, "altiplano_time_to_first_token_seconds_bucket", { ...model, le: "+Inf" })).toBe(requests);
    expect(valueOf(samples, "altiplano_time_to_first_token_seconds_sum", model)).toBeGreaterThan(0);

    for (const worker of ["sim-1", "sim-2"]) {
      expect(valueOf(samples, "altiplano_worker_state", { worker, state: "ready" })).toBe(1);
      expect(valueOf(samples, "altiplano_worker_requests_running", { worker })).toBeGreaterThanOrEqual(0);
      expect(valueOf(samples, "altiplano_worker_heartbeat_age_seconds", { worker })).toBeGreaterThanOrEqual(0);
      expect(valueOf(samples, "altiplano_worker_model_info", { worker, model: MODEL })).toBe(1);
    }
    expect(valueOf(samples, "altiplano_model_ready_workers", model)).toBe(2);
    expect(valueOf(samples, "altiplano_desired_replicas", model)).toBeGreaterThanOrEqual(1);
  });

  it("answers the admin key too", async () => {
    const res = await scrape(stack.adminKey);
    expect(res.status).toBe(200);
    expect(parseSamples(res.text).some((s) => s.name === "altiplano_pool_up" && s.value === 1)).toBe(true);
  });
});
