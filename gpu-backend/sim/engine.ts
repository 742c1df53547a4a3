/**
 * The simulated scheduler: a running batch of at most maxNumSeqs sequences and a FIFO waiting
 * queue. An admitted request waits its prefill time (uncached tokens from the prefix cache, the
 * current batch size), then emits its tokens one inter-token latency apart. With `fast` there
 * are no delays, but tokens are still yielded one event-loop turn apart.
 *
 * KV-cache usage = tokens held by running sequences / (cacheBlocks x 16), capped at 1. Blocks of
 * finished requests stay in the prefix cache but count as free, as in vLLM, where cached blocks
 * sit in the free queue until reused; so usage falls back to 0 when idle.
 */
import { interTokenMs, prefillMs, type LatencyParams } from "./latency-model.js";
import { SimCounters } from "./metrics.js";
import { BLOCK_SIZE_TOKENS, PrefixCache } from "./prefix-cache.js";

export interface EngineOptions {
  latency: LatencyParams;
  fast: boolean;
  maxNumSeqs: number;
  cacheBlocks: number;
  /** Returns [0, 1); drives the inter-token jitter. */
  random: () => number;
}

export interface GenerationRequest {
  promptTokenIds: readonly number[];
  /** How many tokens to generate (the reply plan's length). */
  outputTokens: number;
  /** Aborting (client gone, socket destroyed) takes the sequence out of the batch at once. */
  signal?: AbortSignal;
  /** Called once per generated token, in order, starting at 0. */
  onToken(index: number): void;
}

export interface GenerationResult {
  cachedTokens: number;
  emittedTokens: number;
  aborted: boolean;
}

interface Waiter {
  admit: () => void;
}

/** One simulated vLLM engine. */
export class Engine {
  readonly prefixCache: PrefixCache;
  readonly counters = new SimCounters();
  private readonly options: EngineOptions;
  private readonly waiting: Waiter[] = [];
  private runningCount = 0;
  private heldTokens = 0;
  private readonly shutdown = new AbortController();

  constructor(options: EngineOptions) {
    this.options = options;
    this.prefixCache = new PrefixCache({ capacityBlocks: options.cacheBlocks });
  }

  /** Gauges as vLLM reports them. */
  snapshot(): { running: number; waiting: number; kvCacheUsage: number } {
    const capacityTokens = this.options.cacheBlocks * BLOCK_SIZE_TOKENS;
    const kvCacheUsage = capacityTokens === 0 ? (this.heldTokens > 0 ? 1 : 0) : Math.min(1, this.heldTokens / capacityTokens);
    return { running: this.runningCount, waiting: this.waiting.length, kvCacheUsage };
  }

  /** Aborts everything queued or running (used when the simulator stops). */
  close(): void {
    this.shutdown.abort();
  }

  /** Runs one request through the queue, prefill and decode; resolves when it finishes or aborts. */
  async generate(req: GenerationRequest): Promise<GenerationResult> {
    const signal = req.signal === undefined ? this.shutdown.signal : AbortSignal.any([req.signal, this.shutdown.signal]);
    const arrivedMs = performance.now();
    const result: GenerationResult = { cachedTokens: 0, emittedTokens: 0, aborted: false };
    if (!(await this.admit(signal))) return { ...result, aborted: true };

    let held = 0;
    try {
      const prompt = req.promptTokenIds;
      result.cachedTokens = this.prefixCache.lookup(prompt);
      held = prompt.length;
      this.heldTokens += held;
      await this.sleep(
        prefillMs(this.options.latency, { uncachedTokens: prompt.length - result.cachedTokens, runningBatch: this.runningCount }),
        signal,
      );
      if (signal.aborted) return { ...result, aborted: true };
      this.prefixCache.insert(prompt);
      this.counters.promptTokens += prompt.length;

      for (let i = 0; i < req.outputTokens; i++) {
        if (i > 0) {
          await this.sleep(interTokenMs(this.options.latency, { runningBatch: this.runningCount, random: this.options.random }), signal);
        }
        if (signal.aborted) return { ...result, aborted: true };
        if (i === 0) this.counters.observeTtft((performance.now() - arrivedMs) / 1000);
        this.counters.generationTokens++;
        held++;
        this.heldTokens++;
        result.emittedTokens++;
        req.onToken(i);
      }
      return result;
    } finally {
      this.heldTokens -= held;
      this.runningCount--;
      this.waiting.shift()?.admit();
    }
  }

  /** Takes a batch slot now or waits FIFO for one; false when aborted while waiting. */
  private admit(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.runningCount < this.options.maxNumSeqs && this.waiting.length === 0) {
      this.runningCount++;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        admit: () => {
          signal.removeEventListener("abort", onAbort);
          this.runningCount++;
          resolve(true);
        },
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(waiter);
        if (at !== -1) this.waiting.splice(at, 1);
        resolve(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Waits `ms` (one event-loop turn when fast); returns early when aborted. */
  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        signal.removeEventListener("abort", done);
        clearTimeout(timer);
        clearImmediate(immediate);
        resolve();
      };
      const timer = this.options.fast ? undefined : setTimeout(done, ms);
      const immediate = this.options.fast ? setImmediate(done) : undefined;
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
