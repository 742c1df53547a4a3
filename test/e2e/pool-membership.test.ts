/**
 * The GPU pool through the real stack (gateway under wrangler dev, simulators each with an
 * agent): workers joining and dying at run time, operator drain / cordon / uncordon, an agent
 * draining itself, conversation affinity, the circuit breaker and the pool token. Each test adds
 * the workers it changes and removes them at the end, so sim-1 and sim-2 stay as they started.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type LocalWorker, type Stack } from "../../scripts/stack.js";
import type { AdminPoolWorker } from "../../wire/pool-admin.js";
import { GONE_AFTER_INTERVALS } from "../../workers/pool/pool-state.js";
import { ConversationApi } from "./conversation-api.js";
import { sleep, waitFor } from "../support/wait.js";

const MODEL = "vicuna-13b-v1.5";
const WORKER_HEADER = "x-altiplano-worker";
/**
 * 2.5 s beats leave a window of (GONE - UNHEALTHY) intervals, 2.5 s, in which a silent worker is
 * `unhealthy` before it is `gone`: wide enough for the test to see it on a busy machine.
 */
const HEARTBEAT_INTERVAL_MS = 2_500;
const BREAKER_FAILURES = 2;
/**
 * A gateway isolate routes from a pool snapshot at most this old (SNAPSHOT_MAX_AGE_MS in
 * workers/pool/snapshot-cache.ts, which only loads inside workerd). Any request that starts this
 * long after an operator action routes from a snapshot fetched after it, however slow the machine.
 */
const SNAPSHOT_MAX_AGE_MS = 1_000;
const SNAPSHOT_SETTLE_MS = SNAPSHOT_MAX_AGE_MS + 300;
/** Tokens come 20 ms apart, so a long answer is still streaming while the test acts on its worker. */
const SLOW_SIM = { fast: false, reply: "lorem", replyLength: "max", ttftBaseMs: 5, prefillMsPerToken: 0, itlMs: 20, itlJitterMs: 0 } as const;

let stack: Stack;
let api: ConversationApi;

beforeAll(async () => {
  stack = await startStack({
    sims: 2,
    sim: { reply: "lorem", fast: true },
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    // A long cooldown, so the breaker stays open while the test looks at it.
    vars: { POOL_BREAKER_FAILURES: String(BREAKER_FAILURES), POOL_BREAKER_COOLDOWN_MS: "60000" },
  });
  api = new ConversationApi(stack.url, stack.userKey);
});

afterAll(async () => {
  await stack?.stop();
});

function admin(method: string, path: string): Promise<Response> {
  return fetch(`${stack.url}${path}`, { method, headers: { authorization: `Bearer ${stack.adminKey}` } });
}

async function poolWorker(id: string): Promise<AdminPoolWorker | undefined> {
  return (await stack.pool()).workers.find((w) => w.id === id);
}

/** A plain chat completion whose prompt differs from others in its leading blocks (so prefix affinity spreads them). */
async function chat(n: number): Promise<{ status: number; worker: string | null }> {
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.userKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: MODEL,
      max_tokens: 4,
      messages: [{ role: "user", content: `Question ${n}-${Math.random()}: how do llamas and alpacas live in the high Andes, and what do they eat?` }],
    }),
  });
  await res.text();
  return { status: res.status, worker: res.headers.get(WORKER_HEADER) };
}

/** A turn that must succeed; returns the worker that answered. */
async function turn(conversationId: string, content: string): Promise<string | null> {
  const res = await api.send(conversationId, { content, max_tokens: 2 });
  return res.headers.get(WORKER_HEADER);
}

/** A new conversation whose turns land on `workerId` (found by trying; a few tries with 3 workers). */
async function conversationPinnedTo(workerId: string, except: readonly string[] = []): Promise<string> {
  for (let i = 0; i < 60; i++) {
    const conv = await api.create({});
    if (!except.includes(conv.id) && (await turn(conv.id, `hello ${i}`)) === workerId) return conv.id;
  }
  throw new Error(`no conversation landed on ${workerId}`);
}

/** Kills a worker added by a test and forgets it in the pool, leaving sim-1 and sim-2 alone. */
async function retire(worker: LocalWorker): Promise<void> {
  await worker.kill();
  const res = await admin("DELETE", `/admin/pool/workers/${worker.id}`);
  expect([200, 404]).toContain(res.status);
}

async function addReadyWorker(id: string, sim: Parameters<Stack["addWorker"]>[1] = {}): Promise<LocalWorker> {
  const worker = await stack.addWorker(id, sim);
  await stack.waitForReady([id], 30_000);
  // The pool knows it now; gateway isolates do once their snapshot is refreshed.
  await sleep(SNAPSHOT_SETTLE_MS);
  return worker;
}

describe("pool membership through the running stack", () => {
  it("rejects a heartbeat without the pool token with 401 and changes nothing", async () => {
    const before = await poolWorker("sim-1");
    expect(before?.state).toBe("ready");
    const heartbeat = (workerId: string) => ({
      workerId,
      url: "http://127.0.0.1:9/",
      models: [{ id: MODEL, maxModelLen: 4096 }],
      state: "draining",
      healthy: true,
      load: { running: 0, waiting: 0, kvCacheUsage: 0, prefixCacheHitRate: 0, tokensPerSecond: 0 },
    });
    const credentials: (string | null)[] = [null, "not-the-pool-token", stack.adminKey, stack.userKey];
    for (const token of credentials) {
      for (const id of ["sim-1", "intruder"]) {
        const res = await fetch(`${stack.url}/pool/heartbeat`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
          body: JSON.stringify(heartbeat(id)),
        });
        expect(res.status).toBe(401);
        const body = (await res.json()) as { error: { type: string } };
        expect(body.error.type).toBeTypeOf("string");
      }
    }
    const after = await stack.pool();
    expect(after.workers.map((w) => w.id)).not.toContain("intruder");
    const sim1 = after.workers.find((w) => w.id === "sim-1");
    expect(sim1).toMatchObject({ state: "ready", url: before?.url, agent_state: "ready", joined_at: before?.joined_at });
  });

  it("a worker started at run time is listed as ready within seconds and then receives requests", async () => {
    const started = Date.now();
    const worker = await stack.addWorker("sim-9");
    try {
      await stack.waitForReady(["sim-9"], 15_000);
      const record = await poolWorker("sim-9");
      expect(record).toMatchObject({ state: "ready", healthy: true, models: [{ id: MODEL, maxModelLen: 4096 }] });
      expect(record!.joined_at).toBeGreaterThanOrEqual(started - 1_000);
      // With three ready workers, prompts that differ spread over all of them.
      let answeredBy: string | null = null;
      for (let i = 0; i < 60 && answeredBy !== "sim-9"; i++) {
        const res = await chat(i);
        expect(res.status).toBe(200);
        answeredBy = res.worker;
      }
      expect(answeredBy).toBe("sim-9");
    } finally {
      await retire(worker);
    }
  });

  it("a killed worker turns unhealthy, then gone after three missed beats; its conversations move and still answer", async () => {
    const worker = await addReadyWorker("sim-dying");
    try {
      const conv = await conversationPinnedTo(worker.id);
      await worker.kill();
      // Before the pool notices, the turn fails over (connection refused) and still answers.
      const moved = await turn(conv, "are you still there?");
      expect(moved).not.toBeNull();
      expect(moved).not.toBe(worker.id);

      const seen: string[] = [];
      const gone = await waitFor(async () => {
        const record = await poolWorker(worker.id);
        if (record && seen.at(-1) !== record.state) seen.push(record.state);
        return record?.state === "gone" ? record : undefined;
      }, 30_000, "worker gone");
      expect(["ready", "unhealthy"]).toContain(seen[0]);
      expect(seen.filter((s) => s !== "ready")).toEqual(["unhealthy", "gone"]);
      expect(gone.last_heartbeat_age_ms).toBeGreaterThan(GONE_AFTER_INTERVALS * HEARTBEAT_INTERVAL_MS);

      // Gone: no request is even tried on it. Every attempt on a dead worker fails and is
      // reported to the pool, so its failure count stays put while its conversation goes on.
      await sleep(SNAPSHOT_SETTLE_MS);
      const failuresBefore = (await poolWorker(worker.id))!.total_failures;
      const answeredBy = new Set<string | null>();
      for (let i = 0; i < 5; i++) answeredBy.add(await turn(conv, `turn ${i}`));
      // Settled on one of the remaining workers.
      expect(answeredBy.size).toBe(1);
      expect(answeredBy.has(worker.id)).toBe(false);
      expect(answeredBy.has(null)).toBe(false);
      await sleep(SNAPSHOT_SETTLE_MS);
      expect((await poolWorker(worker.id))!.total_failures).toBe(failuresBefore);
      const stored = (await api.get(conv)).messages;
      expect(stored.filter((m) => m.role === "assistant")).toHaveLength(7);
    } finally {
      await retire(worker);
    }
  });

  describe.each(["drain", "cordon"] as const)("%s via the admin API", (action) => {
    it(`the ${action}ed worker gets no new requests, its in-flight answer finishes whole, and uncordon brings it back`, async () => {
      const worker = await addReadyWorker(`sim-${action}`, SLOW_SIM);
      try {
        const streaming = await conversationPinnedTo(worker.id);
        const probe = await conversationPinnedTo(worker.id, [streaming]);

        let firstText!: () => void;
        const sawText = new Promise<void>((resolve) => (firstText = resolve));
        let streamDone = false;
        // 300 tokens 20 ms apart: about six seconds of answer, in flight while the worker is taken out.
        const stream = api.sendStreamed(streaming, { content: "tell me everything", max_tokens: 300 }, { onText: () => firstText() }).finally(() => {
          streamDone = true;
        });
        await sawText;
        const res = await admin("POST", `/admin/pool/workers/${worker.id}/${action}`);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { state: string }).state).toBe(action === "drain" ? "draining" : "cordoned");
        expect((await poolWorker(worker.id))?.state).toBe(action === "drain" ? "draining" : "cordoned");

        await sleep(SNAPSHOT_SETTLE_MS);
        for (let i = 0; i < 3; i++) expect(await turn(probe, `while ${action}ed ${i}`)).not.toBe(worker.id);
        const stillStreaming = !streamDone;

        const { text, status, headers } = await stream;
        expect(stillStreaming).toBe(true);
        expect(status).toBe(200);
        expect(headers.get(WORKER_HEADER)).toBe(worker.id);
        const reply = await waitFor(async () => {
          const m = (await api.get(streaming)).messages.at(-1);
          return m?.role === "assistant" && m.status ? m : undefined;
        });
        expect(reply).toMatchObject({ content: text, status: "length" });
        expect(text.split(/\s+/).length).toBeGreaterThan(100);

        const back = await admin("POST", `/admin/pool/workers/${worker.id}/uncordon`);
        expect(((await back.json()) as { state: string }).state).toBe("ready");
        await sleep(SNAPSHOT_SETTLE_MS);
        expect(await turn(probe, "back again")).toBe(worker.id);
      } finally {
        await retire(worker);
      }
    });
  });

  it("a worker whose agent drains shows draining and gets no new requests; the agent stops once idle", async () => {
    const worker = await addReadyWorker("sim-leaving");
    try {
      const conv = await conversationPinnedTo(worker.id);
      const drained = worker.agent.drainAndStop();
      await waitFor(async () => ((await poolWorker(worker.id))?.state === "draining" ? true : undefined), 10_000, "draining");
      expect((await poolWorker(worker.id))?.agent_state).toBe("draining");
      await sleep(SNAPSHOT_SETTLE_MS);
      for (let i = 0; i < 3; i++) expect(await turn(conv, `after drain ${i}`)).not.toBe(worker.id);
      expect((await drained).reason).toBe("idle");
    } finally {
      await retire(worker);
    }
  });

  it("a failing worker's breaker opens after the configured failures, shows in /admin/pool, and requests stop trying it", async () => {
    const worker = await addReadyWorker("sim-flaky");
    try {
      const conv = await conversationPinnedTo(worker.id);
      await worker.sim.setFailure({ mode: "http-500" });
      const opened = await waitFor(async () => {
        // Each turn fails on the pinned worker and is answered by the next one.
        const answeredBy = await turn(conv, "try again");
        expect(answeredBy).not.toBe(worker.id);
        const record = await poolWorker(worker.id);
        return record && record.cooldown_until > Date.now() ? record : undefined;
      }, 30_000, "breaker open");
      expect(opened.state).toBe("ready"); // healthy and beating: only the breaker keeps it out
      expect(opened.consecutive_failures).toBeGreaterThanOrEqual(BREAKER_FAILURES);
      expect(opened.total_failures).toBeGreaterThanOrEqual(BREAKER_FAILURES);

      await sleep(SNAPSHOT_SETTLE_MS);
      const failuresBefore = (await poolWorker(worker.id))!.total_failures;
      for (let i = 0; i < 5; i++) expect(await turn(conv, `during cooldown ${i}`)).not.toBe(worker.id);
      await sleep(SNAPSHOT_SETTLE_MS);
      expect((await poolWorker(worker.id))!.total_failures).toBe(failuresBefore);
    } finally {
      await retire(worker);
    }
  });

  it("keeps each conversation's turns on one worker while conversations spread over both, and moves them when that worker is drained", async () => {
    const ready = (await stack.pool()).workers.filter((w) => w.state === "ready").map((w) => w.id);
    expect(ready.sort()).toEqual(["sim-1", "sim-2"]);
    const conversations = await Promise.all(Array.from({ length: 16 }, () => api.create({})));
    const workersByConversation = new Map<string, Set<string | null>>();
    // Four conversations at a time: concurrent load, far below the load gate's threshold.
    const queue = [...conversations];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let conv = queue.shift(); conv; conv = queue.shift()) {
          const seen = new Set<string | null>();
          for (let t = 0; t < 3; t++) seen.add(await turn(conv.id, `turn ${t}`));
          workersByConversation.set(conv.id, seen);
        }
      }),
    );
    for (const seen of workersByConversation.values()) expect(seen.size).toBe(1);
    const home = new Map([...workersByConversation].map(([id, seen]) => [id, [...seen][0]!]));
    expect(new Set(home.values())).toEqual(new Set(["sim-1", "sim-2"]));

    const drainedId = home.get(conversations[0]!.id)!;
    const otherId = drainedId === "sim-1" ? "sim-2" : "sim-1";
    expect((await admin("POST", `/admin/pool/workers/${drainedId}/drain`)).status).toBe(200);
    try {
      await sleep(SNAPSHOT_SETTLE_MS);
      for (const id of home.keys()) expect(await turn(id, "after drain")).toBe(otherId);
    } finally {
      expect((await admin("POST", `/admin/pool/workers/${drainedId}/uncordon`)).status).toBe(200);
    }
    await sleep(SNAPSHOT_SETTLE_MS);
    for (const [id, worker] of home) expect(await turn(id, "after uncordon")).toBe(worker);
  });
});
