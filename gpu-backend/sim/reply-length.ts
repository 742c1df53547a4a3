/**
 * How many tokens a `lorem` reply has before the simulated model ends it by itself
 * (`--reply-length sharegpt`): a draw from a ShareGPT-like answer-length distribution. Pure: the
 * same random stream gives the same lengths.
 *
 * Distribution: lognormal with median 180 tokens and log-space sigma 0.9 (mean
 * 180 * e^(0.9^2 / 2) ≈ 270 tokens; p90 ≈ 570; about 88 % under 512 tokens), right-skewed with a
 * long tail like the ShareGPT answers the vLLM paper reports (Kwon et al., SOSP 2023, §6.1 /
 * Fig. 11: 338 output tokens on average). The median and sigma are our own choice, not a
 * published fit.
 */

export const REPLY_LENGTH_MEDIAN_TOKENS = 180;
export const REPLY_LENGTH_SIGMA = 0.9;

/** Tokens (without EOS) of one answer when nothing cuts it; at least 1. */
export function drawReplyTokens(random: () => number): number {
  // Box–Muller: u in (0, 1] keeps the log finite.
  const u = 1 - random();
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.max(1, Math.round(REPLY_LENGTH_MEDIAN_TOKENS * Math.exp(REPLY_LENGTH_SIGMA * z)));
}
