/**
 * How long a simulated answer runs when it ends by itself. Real chat answers are not all
 * max_tokens long: they stop, mostly after a few hundred tokens, with a long tail. Lengths are
 * drawn from a log-normal with a median of 200 tokens and σ = 1.0: mean 200·e^0.5 ≈ 330 tokens,
 * 90th percentile ≈ 720, 1 in 100 past ≈ 2,050, and 83% under the gateway's default max_tokens
 * of 512.
 *
 * What the numbers are based on: the vLLM paper (Kwon et al., "Efficient Memory Management for
 * Large Language Model Serving with PagedAttention", SOSP 2023, §6.1 and Fig. 11) reports for the
 * ShareGPT conversations — the data Vicuna was trained on and vLLM's serving benchmarks replay —
 * a mean output length of 338 tokens, with a long right tail. The log-normal shape and its median
 * are our choice (σ = 1.0 makes the mean match that 338); it is a stand-in, not a fit to the data.
 * Pure: the random source is passed in.
 */

export const REPLY_LENGTH_MEDIAN_TOKENS = 200;
export const REPLY_LENGTH_SIGMA = 1.0;

/** One draw of an answer's natural length in tokens (at least 1), from two uniform draws in [0, 1). */
export function drawReplyTokens(random: () => number): number {
  // Box–Muller: a standard normal from two uniforms; 1 - u keeps the logarithm finite.
  const u1 = 1 - random();
  const u2 = random();
  const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.max(1, Math.round(REPLY_LENGTH_MEDIAN_TOKENS * Math.exp(REPLY_LENGTH_SIGMA * normal)));
}
