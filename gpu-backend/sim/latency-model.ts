/**
 * The simulator's latency model: how long a prefill step and each decode step take, as a function
 * of uncached prompt tokens and the running batch. Pure (randomness is passed in), so the cluster
 * benchmark can run the same model in a discrete-event simulation.
 */

/** Latency parameters, all in milliseconds unless the name says otherwise. */
export interface LatencyParams {
  ttftBaseMs: number; // fixed cost of a prefill step
  prefillMsPerToken: number; // cost per UNCACHED prompt token
  itlMs: number; // inter-token latency at batch size 1
  itlJitterMs: number; // bounded uniform jitter +- this
  batchSlowdownPerSeq: number; // fractional ITL/prefill slowdown per extra running sequence (e.g. 0.004)
}

/**
 * Roughly vicuna-13b-v1.5 in fp16 on one H100 under vLLM: ~115 ms TTFT for a ~100-token prompt,
 * ~17 ms per output token alone, about +0.4 % per extra running sequence (a 256-sequence batch
 * decodes ~2x slower per token).
 */
export const DEFAULT_LATENCY: LatencyParams = {
  ttftBaseMs: 100,
  prefillMsPerToken: 0.15,
  itlMs: 17,
  itlJitterMs: 2,
  batchSlowdownPerSeq: 0.004,
};

/** Multiplier for a batch: sequences beyond the first each add `batchSlowdownPerSeq`. */
function batchFactor(p: LatencyParams, runningBatch: number): number {
  return 1 + p.batchSlowdownPerSeq * Math.max(0, runningBatch - 1);
}

/** Time of the prefill step that produces the first token, in ms. */
export function prefillMs(p: LatencyParams, o: { uncachedTokens: number; runningBatch: number }): number {
  const work = p.ttftBaseMs + p.prefillMsPerToken * Math.max(0, o.uncachedTokens);
  return Math.max(0, work * batchFactor(p, o.runningBatch));
}

/** Time between two output tokens, in ms; `random` returns [0, 1) and drives the jitter. */
export function interTokenMs(p: LatencyParams, o: { runningBatch: number; random: () => number }): number {
  const jitter = p.itlJitterMs * (2 * o.random() - 1);
  return Math.max(0, p.itlMs * batchFactor(p, o.runningBatch) + jitter);
}
