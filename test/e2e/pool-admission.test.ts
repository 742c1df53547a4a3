/**
 * Admission control through the real stack: a saturated pool answers 503 `overloaded` with
 * Retry-After at once rather than queueing; a configured model with no ready worker is a 503
 * `no_workers`; an unknown model a 404 `model_not_found`. One simulator that runs one sequence
 * at a time with slow tokens, so a second request waits in its queue and the agent reports it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";
import { sleep, waitFor } from "../support/wait.js";

const MODEL = "vicuna-13b-v1.5";
/** Configured for the gateway, served by no worker. */
const MODEL_WITHOUT_WORKERS = "vicuna-7b-v1.5";
/** See pool-membership.test.ts: a request this long after a pool change routes from a snapshot that shows it. */
const SNAPSHOT_SETTLE_MS = 1_300;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    sims: 1,
    sim: { reply: "lorem", replyLength: "max", fast: false, maxNumSeqs: 1, ttftBaseMs: 5, prefillMsPerToken: 0, itlMs: 30, itlJitterMs: 0 },
    vars: {
      // Shed as soon as every worker has anything waiting.
      ROUTING_WAITING_SHED_THRESHOLD: "0",
      MODELS: JSON.stringify([
        { id: MODEL, template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 512 },
        { id: MODEL_WITHOUT_WORKERS, template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 512 },
      ]),
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

function chat(model: string, options: { maxTokens?: number; stream?: boolean; signal?: AbortSignal } = {}): Promise<Response> {
  return fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.userKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      model,
      max_tokens: options.maxTokens ?? 2,
      stream: options.stream ?? false,
      messages: [{ role: "user", content: "How many llamas fit in a minibus?" }],
    }),
    signal: options.signal,
  });
}

async function errorOf(res: Response): Promise<{ code: string; type: string; message: string }> {
  return ((await res.json()) as { error: { code: string; type: string; message: string } }).error;
}

/** Reads a streamed response to its end (or until aborted); resolves with whether it ended by itself. */
async function drain(res: Response): Promise<boolean> {
  const reader = res.body!.getReader();
  try {
    while (!(await reader.read()).done);
    return true;
  } catch {
    return false;
  }
}

describe("admission control through the running stack", () => {
  it("an unknown model is a 404 model_not_found", async () => {
    const res = await chat("no-such-model");
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "model_not_found", type: "invalid_request_error" });
  });

  it("a configured model that no ready worker serves is a 503 no_workers with Retry-After", async () => {
    const res = await chat(MODEL_WITHOUT_WORKERS);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const error = await errorOf(res);
    expect(error).toMatchObject({ code: "no_workers", type: "service_unavailable_error" });
    expect(error.message).toContain(MODEL_WITHOUT_WORKERS);
    // The served model is unaffected.
    expect((await chat(MODEL)).status).toBe(200);
  });

  it("when every worker has a queue above the threshold, a request gets 503 overloaded at once, and is admitted again once the queue is gone", async () => {
    const abort = new AbortController();
    // 400 tokens 30 ms apart: one runs for about twelve seconds, the other waits behind it.
    const running = await chat(MODEL, { maxTokens: 400, stream: true, signal: abort.signal });
    expect(running.status).toBe(200);
    const queued = chat(MODEL, { maxTokens: 400, stream: true, signal: abort.signal }).catch(() => null);
    let runningEnded = false;
    const runningDone = drain(running).then((ended) => (runningEnded = ended));
    try {
      await waitFor(async () => ((await stack.pool()).workers[0]!.load.waiting >= 1 ? true : undefined), 20_000, "queue reported");
      await sleep(SNAPSHOT_SETTLE_MS);

      const shed = await chat(MODEL);
      expect(shed.status).toBe(503);
      const retryAfter = Number(shed.headers.get("retry-after"));
      expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
      expect(await errorOf(shed)).toMatchObject({ code: "overloaded", type: "service_unavailable_error" });
      // At once: the answer did not wait for the queue ahead of it.
      expect(runningEnded).toBe(false);
    } finally {
      abort.abort();
      await Promise.all([runningDone, queued]);
    }

    // With the queue gone (the aborted requests leave the simulator), requests are admitted again.
    await waitFor(async () => {
      const load = (await stack.pool()).workers[0]!.load;
      return load.waiting === 0 && load.running === 0 ? true : undefined;
    }, 20_000, "queue empty");
    await sleep(SNAPSHOT_SETTLE_MS);
    expect((await chat(MODEL)).status).toBe(200);
  });
});
