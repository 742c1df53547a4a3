import { describe, expect, it } from "vitest";
import { z } from "zod";
import { startSimulator } from "../../gpu-backend/sim/server.js";
import { TTFT_BUCKETS_SECONDS } from "../../gpu-backend/sim/metrics.js";
import { eventually, metricSamples, post, readSse, scrape } from "./helpers.js";

describe("metrics under load", () => {
  it("maxNumSeqs 1: one running, the rest waiting; counters grow after", async () => {
    // Small but real delays so the requests overlap; no assertion depends on how long they take.
    const sim = await startSimulator({ maxNumSeqs: 1, ttftBaseMs: 5, prefillMsPerToken: 0, itlMs: 10, itlJitterMs: 0, reply: "lorem", replyLength: "max" });
    try {
      const before = { gen: await scrape(sim.url, "vllm:generation_tokens_total"), prompt: await scrape(sim.url, "vllm:prompt_tokens_total") };
      expect(before).toEqual({ gen: 0, prompt: 0 });
      const requests = [1, 2, 3].map((i) =>
        post(`${sim.url}/v1/completions`, { prompt: `request number ${i}`, max_tokens: 20, stream: true }).then(readSse),
      );
      let sawQueue = false;
      let finished = false;
      const all = Promise.all(requests).finally(() => (finished = true));
      await eventually(async () => {
        const running = await scrape(sim.url, "vllm:num_requests_running");
        const waiting = await scrape(sim.url, "vllm:num_requests_waiting");
        const kv = await scrape(sim.url, "vllm:kv_cache_usage_perc");
        if (running === 1 && waiting >= 1 && kv > 0) sawQueue = true;
        return sawQueue || finished;
      }, 2);
      expect(sawQueue).toBe(true);
      const results = await all;
      expect(results.every((r) => r.error === null && r.data.at(-1) === "[DONE]")).toBe(true);

      expect(await scrape(sim.url, "vllm:num_requests_running")).toBe(0);
      expect(await scrape(sim.url, "vllm:num_requests_waiting")).toBe(0);
      expect(await scrape(sim.url, "vllm:kv_cache_usage_perc")).toBe(0);
      expect(await scrape(sim.url, "vllm:generation_tokens_total")).toBe(60);
      expect(await scrape(sim.url, "vllm:prompt_tokens_total")).toBeGreaterThan(0);
      expect(await scrape(sim.url, "vllm:time_to_first_token_seconds_count")).toBe(3);
      const text = await (await fetch(`${sim.url}/metrics`)).text();
      const buckets = metricSamples(text, "vllm:time_to_first_token_seconds_bucket");
      expect(buckets.size).toBe(TTFT_BUCKETS_SECONDS.length + 1);
      expect([...buckets.entries()].find(([labels]) => labels.includes('le="+Inf"'))?.[1]).toBe(3);
      expect(text).toContain("# TYPE vllm:time_to_first_token_seconds histogram");
      expect(text).toContain('model_name="vicuna-13b-v1.5"');
    } finally {
      await sim.stop();
    }
  });

  it("a client that disconnects leaves the batch at once", async () => {
    const sim = await startSimulator({ maxNumSeqs: 1, ttftBaseMs: 1, prefillMsPerToken: 0, itlMs: 20, itlJitterMs: 0, replyLength: "max" });
    try {
      const abort = new AbortController();
      const res = await post(`${sim.url}/v1/completions`, { prompt: "long one", max_tokens: 1000, stream: true }, { signal: abort.signal });
      const reader = res.body!.getReader();
      await reader.read(); // at least one token arrived: it is running
      expect(await scrape(sim.url, "vllm:num_requests_running")).toBe(1);
      abort.abort();
      await eventually(async () => (await scrape(sim.url, "vllm:num_requests_running")) === 0);
      expect(await scrape(sim.url, "vllm:generation_tokens_total")).toBeLessThan(1000);
    } finally {
      await sim.stop();
    }
  });

  it("prefix cache counters count queried and hit tokens", async () => {
    const sim = await startSimulator({ fast: true });
    try {
      const prompt = `${"a long shared system prompt with many words in it ".repeat(6)}USER: hi ASSISTANT:`;
      const Body = z.object({ usage: z.object({ prompt_tokens: z.number(), prompt_tokens_details: z.object({ cached_tokens: z.number() }) }) });
      const usages = [];
      for (let i = 0; i < 2; i++) {
        usages.push(Body.parse(await (await post(`${sim.url}/v1/completions`, { prompt, max_tokens: 1 })).json()).usage);
      }
      const [first, second] = usages;
      expect(await scrape(sim.url, "vllm:prefix_cache_queries_total")).toBe(first!.prompt_tokens * 2);
      expect(await scrape(sim.url, "vllm:prefix_cache_hits_total")).toBe(second!.prompt_tokens_details.cached_tokens);
      expect(second!.prompt_tokens_details.cached_tokens).toBeGreaterThan(0);
    } finally {
      await sim.stop();
    }
  });
});
