/**
 * One simulated vLLM worker in virtual time, built on the simulator's own pure models
 * (gpu-backend/sim/latency-model.ts, prefix-cache.ts), with the same per-request semantics as the
 * simulator's engine (gpu-backend/sim/engine.ts): FIFO admission up to max_num_seqs, a prefill
 * whose cost is the uncached prompt tokens at the current batch size, the prompt cached after its
 * prefill, then one token per inter-token interval at the current batch size.
 *
 * Decoding is simulated as a fluid: every decoding sequence of a worker advances at the same rate
 * 1 / interTokenMs(batch), so the worker keeps one "decode clock" (tokens per sequence so far) and
 * only wakes at the next completion or when the batch changes, never per token. The inter-token
 * jitter is left out (it is symmetric, so it does not move the means the report is about).
 */
import { interTokenMs, prefillMs, type LatencyParams } from "../../gpu-backend/sim/latency-model.js";
import { BLOCK_SIZE_TOKENS, PrefixCache } from "../../gpu-backend/sim/prefix-cache.js";

/** A request as the worker sees it; `tokens` is the prompt and must not change until completion. */
export interface WorkerRequest {
  tokens: readonly number[];
  outputTokens: number;
  cachedTokens: number; // set at admission
  firstTokenMs: number; // set when the prefill finishes
}

/** What the worker needs from the simulation: a clock to schedule on, and where to report. */
export interface WorkerHost {
  schedule(atMs: number, fire: () => void): void;
  onFirstToken(worker: SimWorker, request: WorkerRequest, atMs: number): void;
  onComplete(worker: SimWorker, request: WorkerRequest, atMs: number): void;
}

/** The load a heartbeat would report. */
export interface WorkerLoad {
  running: number;
  waiting: number;
  kvCacheUsage: number;
}

interface Sequence {
  request: WorkerRequest;
  decoding: boolean;
  startClock: number; // decode clock when decoding began
  finishClock: number; // decode clock at which the last token is out
}

const CLOCK_EPSILON = 1e-6;
const MEAN_JITTER = (): number => 0.5; // interTokenMs's jitter term is zero at 0.5

export class SimWorker {
  readonly index: number;
  readonly cache: PrefixCache;
  /** Output tokens of completed requests, for imbalance. */
  outputTokensServed = 0;
  private readonly latency: LatencyParams;
  private readonly maxNumSeqs: number;
  private readonly capacityBlocks: number;
  private readonly host: WorkerHost;
  private readonly running: Sequence[] = [];
  private waiting: WorkerRequest[] = [];
  private waitingHead = 0;
  private clock = 0; // decode clock: tokens each decoding sequence has produced since clock 0
  private clockAtMs = 0;
  private wakeVersion = 0;

  constructor(o: { index: number; latency: LatencyParams; maxNumSeqs: number; cacheBlocks: number; host: WorkerHost }) {
    this.index = o.index;
    this.latency = o.latency;
    this.maxNumSeqs = o.maxNumSeqs;
    this.capacityBlocks = o.cacheBlocks;
    this.cache = new PrefixCache({ capacityBlocks: o.cacheBlocks });
    this.host = o.host;
  }

  /** Queues a request at `nowMs` and admits what fits. */
  submit(request: WorkerRequest, nowMs: number): void {
    this.advance(nowMs);
    this.waiting.push(request);
    this.admit(nowMs);
    this.reschedule(nowMs);
  }

  /**
   * Running and waiting counts, and KV usage as the simulator reports it: tokens held by running
   * sequences (prompt + generated so far) / (cacheBlocks x 16), capped at 1.
   */
  load(nowMs: number): WorkerLoad {
    this.advance(nowMs);
    let heldTokens = 0;
    for (const s of this.running) {
      const generated = s.decoding ? Math.floor(Math.min(this.clock, s.finishClock) - s.startClock) + 1 : 0;
      heldTokens += s.request.tokens.length + generated;
    }
    const kvCacheUsage = Math.min(1, heldTokens / (this.capacityBlocks * BLOCK_SIZE_TOKENS));
    return { running: this.running.length, waiting: this.waitingCount(), kvCacheUsage };
  }

  /** Requests submitted and not finished. */
  outstanding(): number {
    return this.running.length + this.waitingCount();
  }

  private waitingCount(): number {
    return this.waiting.length - this.waitingHead;
  }

  private itlMs(): number {
    return interTokenMs(this.latency, { runningBatch: Math.max(1, this.running.length), random: MEAN_JITTER });
  }

  /** Moves the decode clock to `nowMs` at the current batch's rate. */
  private advance(nowMs: number): void {
    if (nowMs > this.clockAtMs) {
      this.clock += (nowMs - this.clockAtMs) / this.itlMs();
      this.clockAtMs = nowMs;
    }
  }

  private admit(nowMs: number): void {
    while (this.running.length < this.maxNumSeqs && this.waitingCount() > 0) {
      const request = this.waiting[this.waitingHead++]!;
      request.cachedTokens = this.cache.lookup(request.tokens);
      const sequence: Sequence = { request, decoding: false, startClock: 0, finishClock: 0 };
      this.running.push(sequence);
      const duration = prefillMs(this.latency, {
        uncachedTokens: request.tokens.length - request.cachedTokens,
        runningBatch: this.running.length,
      });
      this.host.schedule(nowMs + duration, () => this.prefillDone(sequence, nowMs + duration));
    }
    // Compact the queue now and then instead of shifting on every admission.
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitingHead);
      this.waitingHead = 0;
    }
  }

  private prefillDone(sequence: Sequence, nowMs: number): void {
    this.advance(nowMs);
    const { request } = sequence;
    request.firstTokenMs = nowMs;
    // As the simulator's engine: the prompt's blocks enter the cache after prefill; generated
    // tokens are not cached (vLLM would cache their full blocks too, which only helps affinity).
    this.cache.insert(request.tokens);
    this.host.onFirstToken(this, request, nowMs);
    sequence.decoding = true;
    sequence.startClock = this.clock;
    sequence.finishClock = this.clock + Math.max(0, request.outputTokens - 1);
    if (request.outputTokens <= 1) this.complete(nowMs);
    this.reschedule(nowMs);
  }

  private wake(version: number, nowMs: number): void {
    if (version !== this.wakeVersion) return; // the batch changed since; a newer wake is queued
    this.advance(nowMs);
    this.complete(nowMs);
    this.reschedule(nowMs);
  }

  /** Finishes every decoding sequence whose last token is out, then admits waiting requests. */
  private complete(nowMs: number): void {
    let finished = false;
    for (let i = this.running.length - 1; i >= 0; i--) {
      const s = this.running[i]!;
      if (!s.decoding || s.finishClock > this.clock + CLOCK_EPSILON) continue;
      this.running.splice(i, 1);
      this.outputTokensServed += s.request.outputTokens;
      this.host.onComplete(this, s.request, nowMs);
      finished = true;
    }
    if (finished) this.admit(nowMs);
  }

  /** Schedules a wake at the next completion under the current batch size. */
  private reschedule(nowMs: number): void {
    let next = Infinity;
    for (const s of this.running) if (s.decoding && s.finishClock < next) next = s.finishClock;
    const version = ++this.wakeVersion;
    if (next === Infinity) return;
    const atMs = nowMs + Math.max(0, next - this.clock) * this.itlMs();
    this.host.schedule(atMs, () => this.wake(version, atMs));
  }
}
