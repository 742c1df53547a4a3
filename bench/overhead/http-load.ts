/**
 * Closed-loop HTTP load: `concurrency` loops, each sending the same POST again as soon as the
 * previous answer ended, for warmup + duration. node:http with a keep-alive agent (one socket per
 * loop), timestamps from the monotonic clock: time to response headers, to the first body byte,
 * to the first generated token (streams), and to the end of the body.
 */
import http from "node:http";
import { answerProblem, hasFirstToken } from "./sse-scan.js";

const REQUEST_TIMEOUT_MS = 30_000;
const MAX_ERROR_EXAMPLES = 5;

export interface LoadRequest {
  /** Absolute http:// URL to POST to. */
  url: string;
  headers: Record<string, string>;
  body: string;
  stream: boolean;
}

/** One request's timings in ms from its start (NaN when it never got there). */
export interface Sample {
  headersMs: number;
  firstByteMs: number;
  firstTokenMs: number;
  totalMs: number;
}

export interface CellRun {
  /** Successful requests that started inside the measured window. */
  samples: Sample[];
  /** Failed requests that started inside the measured window. */
  errors: number;
  errorExamples: string[];
  /** Length of the measured window (after warmup), ms. */
  windowMs: number;
}

function now(): number {
  return performance.now();
}

function sendOnce(agent: http.Agent, r: LoadRequest): Promise<{ sample: Sample } | { error: string }> {
  return new Promise((resolve) => {
    const started = now();
    const sample: Sample = { headersMs: NaN, firstByteMs: NaN, firstTokenMs: NaN, totalMs: NaN };
    const url = new URL(r.url);
    const req = http.request(
      {
        agent,
        method: "POST",
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        headers: { ...r.headers, "content-type": "application/json", "content-length": Buffer.byteLength(r.body) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        sample.headersMs = now() - started;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (Number.isNaN(sample.firstByteMs)) sample.firstByteMs = now() - started;
          text += chunk;
          if (r.stream && Number.isNaN(sample.firstTokenMs) && hasFirstToken(text)) sample.firstTokenMs = now() - started;
        });
        res.on("end", () => {
          sample.totalMs = now() - started;
          if (res.statusCode !== 200) return resolve({ error: `HTTP ${res.statusCode}: ${text.slice(0, 200)}` });
          const problem = answerProblem({ stream: r.stream, body: text });
          resolve(problem === null ? { sample } : { error: problem });
        });
        res.on("error", (e) => resolve({ error: `response: ${e.message}` }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", (e) => resolve({ error: `request: ${e.message}` }));
    req.end(r.body);
  });
}

/**
 * Runs one cell: warmup (not recorded), then the measured window; waits for requests in flight.
 * `request` is the same for every connection, or chosen per connection (e.g. one key each).
 */
export async function runCell(o: {
  request: LoadRequest | ((connection: number) => LoadRequest);
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}): Promise<CellRun> {
  const requestOf = typeof o.request === "function" ? o.request : () => o.request as LoadRequest;
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const t0 = now();
  const windowStart = t0 + o.warmupMs;
  const end = windowStart + o.durationMs;
  const samples: Sample[] = [];
  const errorExamples: string[] = [];
  let errors = 0;
  try {
    await Promise.all(
      Array.from({ length: o.concurrency }, async (_, connection) => {
        const request = requestOf(connection);
        while (now() < end) {
          const measured = now() >= windowStart;
          const outcome = await sendOnce(agent, request);
          if (!measured) continue;
          if ("sample" in outcome) samples.push(outcome.sample);
          else {
            errors++;
            if (errorExamples.length < MAX_ERROR_EXAMPLES) errorExamples.push(outcome.error);
          }
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { samples, errors, errorExamples, windowMs: o.durationMs };
}
