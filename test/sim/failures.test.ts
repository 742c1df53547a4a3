import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { startSimulator, type RunningSimulator } from "../../gpu-backend/sim/server.js";
import { eventually, json, post, readSse, tryConnect } from "./helpers.js";

const KEY = "sk-admin-test";
const started: RunningSimulator[] = [];
async function start(o: Parameters<typeof startSimulator>[0]): Promise<RunningSimulator> {
  const sim = await startSimulator({ fast: true, reply: "lorem", replyLength: "max", ...o });
  started.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

const stream = (sim: RunningSimulator, o: { signal?: AbortSignal; key?: string } = {}) =>
  post(`${sim.url}/v1/completions`, { prompt: "USER: go ASSISTANT:", max_tokens: 12, stream: true }, o);
const tokenTexts = (data: string[]) => data.filter((d) => d !== "[DONE]").map((d) => z.object({ choices: z.array(z.object({ text: z.string() })) }).parse(json(d)).choices[0]!.text);

describe("failure injection", () => {
  it("refuse: new connections get ECONNREFUSED until cleared, then the same port serves again", async () => {
    const sim = await start({});
    expect(await tryConnect(sim.port)).toBe("OK");
    await sim.setFailure({ mode: "refuse" });
    expect(await tryConnect(sim.port)).toBe("ECONNREFUSED");
    await expect(fetch(`${sim.url}/health`)).rejects.toThrow();
    await sim.setFailure(null);
    expect((await fetch(`${sim.url}/health`)).status).toBe(200);
  });

  it("refuse with durationMs reopens by itself; admin stays reachable on --admin-port", async () => {
    const sim = await start({ adminPort: 0, apiKey: KEY });
    expect(sim.adminUrl).toBeDefined();
    const set = await post(`${sim.adminUrl}/admin/failure`, { mode: "refuse" }, { key: KEY });
    expect(set.status).toBe(200);
    expect(await tryConnect(sim.port)).toBe("ECONNREFUSED");
    const cleared = await fetch(`${sim.adminUrl}/admin/failure`, { method: "DELETE", headers: { authorization: `Bearer ${KEY}` } });
    expect(cleared.status).toBe(200);
    expect(await tryConnect(sim.port)).toBe("OK");

    await sim.setFailure({ mode: "refuse", durationMs: 50 });
    expect(await tryConnect(sim.port)).toBe("ECONNREFUSED");
    await eventually(async () => (await tryConnect(sim.port)) === "OK");
  });

  it("refuse from the start (--failure refuse)", async () => {
    const sim = await start({ failure: "refuse" });
    expect(await tryConnect(sim.port)).toBe("ECONNREFUSED");
    await sim.setFailure(null);
    expect(await tryConnect(sim.port)).toBe("OK");
  });

  it.each([
    { mode: "http-500" as const, status: 500, type: "InternalServerError" },
    { mode: "http-503" as const, status: 503, type: "ServiceUnavailableError" },
  ])("$mode: vLLM-shaped error body, limited by count", async ({ mode, status, type }) => {
    const sim = await start({ workerId: "w-err" });
    const admin = await post(`${sim.url}/admin/failure`, { mode, count: 1 });
    expect(admin.status).toBe(200);
    const res = await stream(sim);
    expect(res.status).toBe(status);
    expect(res.headers.get("x-worker-id")).toBe("w-err");
    expect(await res.json()).toMatchObject({ error: { type, code: status, param: null, message: expect.any(String) } });
    // count 1: the next request is served normally.
    const next = await readSse(await stream(sim));
    expect(next.data.at(-1)).toBe("[DONE]");
  });

  it("hang: a stream gets headers and never a token; a plain request gets nothing", async () => {
    const sim = await start({ failure: "hang" });
    const abort = new AbortController();
    const res = await stream(sim, { signal: abort.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await Promise.race([reader.read().then(() => "data"), new Promise((r) => setTimeout(() => r("nothing"), 300))]);
    expect(first).toBe("nothing");
    abort.abort();

    const plainAbort = new AbortController();
    const plain = post(`${sim.url}/v1/completions`, { prompt: "x", max_tokens: 3 }, { signal: plainAbort.signal });
    const outcome = await Promise.race([plain.then(() => "response"), new Promise((r) => setTimeout(() => r("nothing"), 300))]);
    expect(outcome).toBe("nothing");
    plainAbort.abort();
    await expect(plain).rejects.toThrow();
  });

  it("close-after N: exactly N token chunks, then the connection drops", async () => {
    const sim = await start({});
    await sim.setFailure({ mode: "close-after", afterTokens: 3, count: 1 });
    const { data, error } = await readSse(await stream(sim));
    expect(tokenTexts(data)).toHaveLength(3);
    expect(data).not.toContain("[DONE]");
    expect(error).not.toBeNull();
    // A non-streamed request under close-after gets no response at all.
    await sim.setFailure({ mode: "close-after", afterTokens: 2, count: 1 });
    await expect(post(`${sim.url}/v1/completions`, { prompt: "x", max_tokens: 5 })).rejects.toThrow();
    // count exhausted: served normally again.
    expect(tokenTexts((await readSse(await stream(sim))).data)).toHaveLength(12);
  });

  it("stall-after N: exactly N token chunks, then silence on an open connection", async () => {
    const sim = await start({});
    await sim.setFailure({ mode: "stall-after", afterTokens: 3, count: 1 });
    const abort = new AbortController();
    const res = await stream(sim, { signal: abort.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const chunks = () => text.split("\n\n").filter((f) => f.startsWith("data: {"));
    while (chunks().length < 3) {
      const { done, value } = await reader.read();
      if (done) throw new Error("the stream ended instead of stalling");
      text += value;
    }
    // Nothing more arrives, and the connection is not closed either.
    const next = await Promise.race([reader.read().then((r) => (r.done ? "closed" : "data")), new Promise((r) => setTimeout(() => r("silence"), 300))]);
    expect(next).toBe("silence");
    expect(chunks()).toHaveLength(3);
    abort.abort();
    // count exhausted: served normally again.
    expect(tokenTexts((await readSse(await stream(sim))).data)).toHaveLength(12);
  });

  it("close-after 0 closes before the first token (from flags)", async () => {
    const sim = await start({ failure: "close-after", failureAfterTokens: 0 });
    const { data, error } = await readSse(await stream(sim));
    expect(data).toEqual([]);
    expect(error).not.toBeNull();
  });

  it("malformed-sse: one broken data line after N tokens, the rest of the stream intact", async () => {
    const sim = await start({});
    await sim.setFailure({ mode: "malformed-sse", afterTokens: 2 });
    const { data, error } = await readSse(await stream(sim));
    expect(error).toBeNull();
    const broken = data.findIndex((d) => {
      try {
        json(d);
        return false;
      } catch {
        return d !== "[DONE]";
      }
    });
    expect(broken).toBe(2);
    expect(data.at(-1)).toBe("[DONE]");
    expect(tokenTexts(data.filter((_, i) => i !== broken))).toHaveLength(12);
  });

  it("admin routes validate the body and need the api key when one is set", async () => {
    const sim = await start({ apiKey: KEY });
    expect((await post(`${sim.url}/admin/failure`, { mode: "http-500" })).status).toBe(401);
    const bad = await post(`${sim.url}/admin/failure`, { mode: "explode" }, { key: KEY });
    expect(bad.status).toBe(400);
    await bad.arrayBuffer();
    const ok = await post(`${sim.url}/admin/failure`, { mode: "http-503", count: 2 }, { key: KEY });
    expect(await ok.json()).toEqual({ failure: { mode: "http-503", count: 2 } });
    const current = await (await fetch(`${sim.url}/admin/failure`, { headers: { authorization: `Bearer ${KEY}` } })).json();
    expect(current).toEqual({ failure: { mode: "http-503", count: 2 } });
    const cleared = await fetch(`${sim.url}/admin/failure`, { method: "DELETE", headers: { authorization: `Bearer ${KEY}` } });
    expect(await cleared.json()).toEqual({ failure: null });
    expect((await stream(sim, { key: KEY })).status).toBe(200);
  });
});
