/**
 * The client's sampling fields as an upstream takes them. vLLM and OpenAI-compatible providers
 * accept the same names, so both kinds of model pass the same set through; a field whose effect
 * this gateway cannot give back (token log probabilities) is refused by name, never ignored.
 */
import type { Sampling } from "../../wire/openai.js";
import { invalidRequest } from "../errors.js";
import type { VllmSampling } from "../upstream/vllm-client.js";

export function upstreamSampling(sampling: Sampling): VllmSampling {
  if (sampling.logprobs === true || (sampling.top_logprobs ?? 0) > 0) {
    const param = sampling.logprobs === true ? "logprobs" : "top_logprobs";
    throw invalidRequest(`${param} is not supported here: replies carry no token log probabilities. Leave it out (or send logprobs: false).`, param, "unsupported_parameter");
  }
  const stop = sampling.stop == null ? [] : typeof sampling.stop === "string" ? [sampling.stop] : sampling.stop;
  return {
    temperature: sampling.temperature ?? null,
    top_p: sampling.top_p ?? null,
    stop,
    presence_penalty: sampling.presence_penalty ?? null,
    frequency_penalty: sampling.frequency_penalty ?? null,
    seed: sampling.seed ?? null,
    logit_bias: sampling.logit_bias ?? null,
  };
}
