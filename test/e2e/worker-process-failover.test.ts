/**
 * GPU workers as processes (`npm run worker`, as `npm start` runs them): one is killed with
 * SIGKILL — a GPU box that dies — while 16 answers stream through the `openai` SDK. Every stream
 * still completes whole (the ones on the dead worker resume mid-answer on the other), and the pool
 * marks the dead worker gone once it has missed its beats.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";
import { GONE_AFTER_INTERVALS } from "../../workers/pool/pool-state.js";
import { sleep, waitFor } from "../support/wait.js";

const MODEL = "vicuna-13b-v1.5";
const STREAMS = 16;
const HEARTBEAT_INTERVAL_MS = 1_000;
/**
 * The simulator echoes the question, a token every 20 ms: about 4 s per answer, so every stream
 * is mid-answer when the worker dies. Echo makes a resumed answer checkable to the token: the
 * second worker does not know it continues and echoes the whole question again, so the client
 * sees the first worker's part (a prefix of the question) followed by the question, whole.
 */
const SLOW_ECHO = { reply: "echo", fast: false, ttftBaseMs: 5, prefillMsPerToken: 0, itlMs: 20, itlJitterMs: 0, batchSlowdownPerSeq: 0 } as const;

let stack: Stack;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack({ sims: 2, workerProcesses: true, sim: SLOW_ECHO, heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.userKey, maxRetries: 0 });
});

afterAll(async () => {
  await stack?.stop();
});

function question(n: number): string {
  const llamas = Array.from({ length: 40 }, (_, i) => `llama ${i + 1} grazes`).join(", ");
  return `Stream ${n}: count the animals on the hill: ${llamas}.`;
}

interface StreamResult {
  question: string;
  worker: string | null;
  text: string;
  finish: string | null;
}

it("a worker process killed mid-answer: all 16 streams complete whole, and the pool marks it gone", async () => {
  expect(stack.processes.map((p) => p.id)).toEqual(["sim-1", "sim-2"]);
  let firstChunks = 0;
  const answeredBy: string[] = [];
  const streams: Promise<StreamResult>[] = Array.from({ length: STREAMS }, async (_, n) => {
    const q = question(n);
    const { data, response } = await client.chat.completions
      .create({ model: MODEL, stream: true, max_tokens: 1_000, messages: [{ role: "user", content: q }] })
      .withResponse();
    const worker = response.headers.get("x-altiplano-worker");
    answeredBy.push(worker ?? "");
    let text = "";
    let finish: string | null = null;
    for await (const chunk of data) {
      const delta = chunk.choices[0]?.delta.content ?? "";
      if (text === "" && delta !== "") firstChunks++;
      text += delta;
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    return { question: q, worker, text, finish };
  });

  // Every answer has begun: kill the worker that carries most of them.
  await waitFor(() => (firstChunks === STREAMS ? true : undefined), 60_000, "every stream's first token");
  const count = (id: string) => answeredBy.filter((w) => w === id).length;
  const victim = [...stack.processes].sort((a, b) => count(b.id) - count(a.id))[0]!;
  expect(count(victim.id)).toBeGreaterThan(0);
  victim.signal("SIGKILL");
  const exit = await victim.exited;
  expect(exit.signal).toBe("SIGKILL");

  const results = await Promise.all(streams);
  let resumed = 0;
  for (const r of results) {
    expect(r.finish).toBe("stop");
    // The question whole at the end, after what the dead worker had sent (a prefix of it, maybe empty).
    expect(r.text.endsWith(r.question), r.text).toBe(true);
    const beforeSeam = r.text.slice(0, r.text.length - r.question.length);
    expect(r.question.startsWith(beforeSeam), r.text).toBe(true);
    if (r.worker === victim.id) {
      expect(beforeSeam.length).toBeGreaterThan(0);
      resumed++;
    } else {
      expect(r.text).toBe(r.question);
    }
  }
  expect(resumed).toBeGreaterThan(0);

  // Silent for more than GONE_AFTER_INTERVALS beats: gone, and never back.
  const gone = await waitFor(async () => {
    const record = (await stack.pool()).workers.find((w) => w.id === victim.id);
    return record?.state === "gone" ? record : undefined;
  }, 30_000, `${victim.id} gone`);
  expect(gone.last_heartbeat_age_ms).toBeGreaterThan(GONE_AFTER_INTERVALS * HEARTBEAT_INTERVAL_MS);
  await sleep(2 * HEARTBEAT_INTERVAL_MS);
  const later = (await stack.pool()).workers;
  expect(later.find((w) => w.id === victim.id)?.state ?? "gone").toBe("gone");
  expect(later.find((w) => w.id !== victim.id)?.state).toBe("ready");

  // The survivor still answers.
  const after = await client.chat.completions.create({ model: MODEL, max_tokens: 8, messages: [{ role: "user", content: "still there?" }] });
  expect(after.choices[0]?.message.content).toBe("still there?");
});
