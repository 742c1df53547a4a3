/**
 * GET /metrics inside workerd, against the real pool and metrics Durable Objects: who may read it,
 * that the text parses, that a heartbeat's load shows as worker gauges, and that generations and
 * refusals move the counters. Only the GPU's HTTP answer is canned (fetch to the worker URL).
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import app from "../../workers/index.js";
import type { Env } from "../../workers/env.js";
import { PROMETHEUS_CONTENT_TYPE } from "../../workers/metrics/prometheus.js";
import { ADMIN_KEY, expectOpenAIError, seedKey } from "./helpers.js";

const MODEL = "vicuna-13b-v1.5";
const WORKER_ID = "metrics-w1";
const WORKER_URL = "http://metrics-gpu.test";
const METRICS_TOKEN = "metrics-test-token";
/** A request with this max_tokens gets a 400 from the canned GPU: a generation that fails. */
const REJECTED_MAX_TOKENS = 7;

const testEnv: Env = { ...env, METRICS_TOKEN };

interface ParsedMetrics {
  types: Map<string, string>;
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

/** A small parser of the Prometheus text format: TYPE lines and samples (escaped quotes in label values allowed). */
function parseMetrics(text: string): ParsedMetrics {
  const types = new Map<string, string>();
  const samples: ParsedMetrics["samples"] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`unparseable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    const labelText = sample[2] ?? "";
    const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
    let consumed = 0;
    for (const match of labelText.matchAll(labelPattern)) {
      labels[match[1]!] = match[2]!.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
      consumed = match.index + match[0].length;
    }
    if (consumed !== labelText.length) throw new Error(`unparseable labels: ${line}`);
    const value = sample[3] === "+Inf" ? Number.POSITIVE_INFINITY : Number(sample[3]);
    if (Number.isNaN(value) && sample[3] !== "NaN") throw new Error(`bad value: ${line}`);
    samples.push({ name: sample[1]!, labels, value });
  }
  return { types, samples };
}

/** The value of one sample whose labels include `labels`, or undefined. */
function valueOf(metrics: ParsedMetrics, name: string, labels: Record<string, string> = {}): number | undefined {
  return metrics.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function send(path: string, options: { key?: string; method?: string; body?: unknown; env?: Env } = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await app.fetch(
    new Request(`https://gateway.test${path}`, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
    options.env ?? testEnv,
    ctx,
  );
  const text = await res.text();
  // Background work (settlement, the metrics flush) finishes before the next step.
  await waitOnExecutionContext(ctx);
  return new Response(text, { status: res.status, headers: res.headers });
}

async function scrape(key = METRICS_TOKEN): Promise<ParsedMetrics> {
  const res = await send("/metrics", { key });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return parseMetrics(text);
}

/** Scrapes until `check` passes (the pool snapshot an isolate routes from may be up to a second old). */
async function scrapeUntil(check: (m: ParsedMetrics) => boolean, timeoutMs = 15_000): Promise<ParsedMetrics> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metrics = await scrape();
    if (check(metrics)) return metrics;
    if (Date.now() > deadline) return metrics;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function cannedGpu(): void {
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(WORKER_URL)) return realFetch(input, init);
    const body = (await request.json()) as { max_tokens?: unknown };
    if (body.max_tokens === REJECTED_MAX_TOKENS) return new Response("bad request", { status: 400 });
    const frames = [
      { choices: [{ index: 0, text: " Hello", finish_reason: null }] },
      { choices: [{ index: 0, text: " there.", finish_reason: "stop" }] },
      { choices: [], usage: { prompt_tokens: 40, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 0 } } },
    ];
    const sse = frames.map((f) => `data: ${JSON.stringify(f)}\n\n`).join("") + "data: [DONE]\n\n";
    return new Response(sse, { headers: { "content-type": "text/event-stream" } });
  });
}

async function heartbeat(load: { running: number; waiting: number; kvCacheUsage: number; prefixCacheHitRate: number; tokensPerSecond: number }): Promise<void> {
  const res = await send("/pool/heartbeat", {
    method: "POST",
    key: "pool-test-token",
    body: { workerId: WORKER_ID, url: WORKER_URL, models: [{ id: MODEL, maxModelLen: 4096 }], state: "ready", healthy: true, load },
  });
  expect(res.status).toBe(200);
}

const LOAD = { running: 3, waiting: 1, kvCacheUsage: 0.5, prefixCacheHitRate: 0.25, tokensPerSecond: 120 };
/** Beats faster than the pool's interval, as an agent does, so the worker stays ready however slow the machine. */
const KEEPALIVE_MS = 250;
let keepAlive: ReturnType<typeof setInterval> | undefined;

beforeAll(async () => {
  await heartbeat(LOAD);
  keepAlive = setInterval(() => void heartbeat(LOAD).catch(() => undefined), KEEPALIVE_MS);
});

afterAll(() => {
  if (keepAlive !== undefined) clearInterval(keepAlive);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("GET /metrics access", () => {
  it("is a 401 in the OpenAI shape without credentials or with a wrong token", async () => {
    await expectOpenAIError(await send("/metrics"), 401, "invalid_api_key");
    await expectOpenAIError(await send("/metrics", { key: "not-the-token" }), 401, "invalid_api_key");
  });

  it("is a 403 for a valid key that is not an admin key", async () => {
    const { key } = await seedKey("user");
    await expectOpenAIError(await send("/metrics", { key }), 403, "forbidden");
  });

  it("answers the admin key and the metrics token with Prometheus text", async () => {
    for (const key of [ADMIN_KEY, METRICS_TOKEN]) {
      const res = await send("/metrics", { key });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(PROMETHEUS_CONTENT_TYPE);
      const metrics = parseMetrics(await res.text());
      expect(metrics.types.get("altiplano_requests_total")).toBe("counter");
      expect(metrics.types.get("altiplano_time_to_first_token_seconds")).toBe("histogram");
      expect(metrics.types.get("altiplano_worker_requests_running")).toBe("gauge");
    }
  });

  it("does not let the metrics token open anything else", async () => {
    await expectOpenAIError(await send("/admin/pool", { key: METRICS_TOKEN }), 401, "invalid_api_key");
    await expectOpenAIError(await send("/v1/models", { key: METRICS_TOKEN }), 401, "invalid_api_key");
  });
});

describe("GET /metrics content", () => {
  it("lists a worker's heartbeat load as gauges, and the model's readiness and desired replicas", async () => {
    const metrics = await scrapeUntil((m) => valueOf(m, "altiplano_worker_requests_running", { worker: WORKER_ID }) !== undefined);
    const worker = { worker: WORKER_ID };
    expect(valueOf(metrics, "altiplano_worker_requests_running", worker)).toBe(3);
    expect(valueOf(metrics, "altiplano_worker_requests_waiting", worker)).toBe(1);
    expect(valueOf(metrics, "altiplano_worker_kv_cache_usage_ratio", worker)).toBe(0.5);
    expect(valueOf(metrics, "altiplano_worker_prefix_cache_hit_ratio", worker)).toBe(0.25);
    expect(valueOf(metrics, "altiplano_worker_generation_tokens_per_second", worker)).toBe(120);
    expect(valueOf(metrics, "altiplano_worker_state", { ...worker, state: "ready" })).toBe(1);
    expect(valueOf(metrics, "altiplano_worker_state", { ...worker, state: "gone" })).toBe(0);
    expect(valueOf(metrics, "altiplano_worker_consecutive_failures", worker)).toBe(0);
    expect(valueOf(metrics, "altiplano_worker_heartbeat_age_seconds", worker)).toBeGreaterThanOrEqual(0);
    expect(valueOf(metrics, "altiplano_model_ready_workers", { model: MODEL })).toBeGreaterThanOrEqual(1);
    expect(valueOf(metrics, "altiplano_desired_replicas", { model: MODEL })).toBeGreaterThanOrEqual(1);
  });

  it("counts generations by outcome, tokens and time to first token, streamed or not", async () => {
    await scrapeUntil((m) => (valueOf(m, "altiplano_model_ready_workers", { model: MODEL }) ?? 0) >= 1);
    cannedGpu();
    const { key } = await seedKey("user");
    const before = await scrape();
    const messages = [{ role: "user", content: "hi" }];
    expect((await send("/v1/chat/completions", { method: "POST", key, body: { model: MODEL, messages } })).status).toBe(200);
    const streamed = await send("/v1/chat/completions", { method: "POST", key, body: { model: MODEL, messages, stream: true } });
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toContain("[DONE]");
    const rejected = await send("/v1/chat/completions", { method: "POST", key, body: { model: MODEL, messages, max_tokens: REJECTED_MAX_TOKENS } });
    expect(rejected.status).toBe(400);
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string>) => (valueOf(after, name, labels) ?? 0) - (valueOf(before, name, labels) ?? 0);
    const model = { model: MODEL };
    expect(delta("altiplano_requests_total", { ...model, outcome: "complete" })).toBe(2);
    expect(delta("altiplano_requests_total", { ...model, outcome: "failed" })).toBe(1);
    expect(delta("altiplano_requests_total", { ...model, outcome: "cancelled" })).toBe(0);
    expect(delta("altiplano_generated_tokens_total", model)).toBe(4);
    expect(delta("altiplano_failovers_total", model)).toBe(0);
    // The failed generation produced no text, so only the two answers have a time to first token.
    expect(delta("altiplano_time_to_first_token_seconds_count", model)).toBe(2);
    expect(delta("altiplano_time_to_first_token_seconds_bucket", { ...model, le: "+Inf" })).toBe(2);
  });

  it("counts a request refused for want of a ready worker", async () => {
    const ghostModel = { id: "ghost-model", template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 64 };
    const withGhost: Env = { ...testEnv, MODELS: JSON.stringify([JSON.parse(env.MODELS)[0], ghostModel]) };
    const { key } = await seedKey("user");
    const before = await scrape();
    const res = await send("/v1/chat/completions", {
      method: "POST",
      key,
      env: withGhost,
      body: { model: "ghost-model", messages: [{ role: "user", content: "anyone?" }] },
    });
    await expectOpenAIError(res, 503, "no_workers");
    const after = await scrape();
    const reason = { reason: "no_workers" };
    expect((valueOf(after, "altiplano_requests_refused_total", reason) ?? 0) - (valueOf(before, "altiplano_requests_refused_total", reason) ?? 0)).toBe(1);
  });
});
