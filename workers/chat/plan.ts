/** The parts of a response plan every generating route shares: model, prompt, routing, limits. */
import type { Context } from "hono";
import type { Sampling } from "../../wire/openai.js";
import type { AppEnv } from "../app-env.js";
import { getConfig, type ModelConfig } from "../config.js";
import { poolHooks } from "../upstream/candidates.js";
import type { Backend } from "../upstream/vllm-client.js";
import type { AdmittedRequest } from "./admission.js";
import { completionParams, type PreparedPrompt } from "./prepare.js";
import type { ResponsePlan } from "./respond.js";

export type BasePlan = Omit<ResponsePlan, "headers" | "persist" | "rollback" | "persistBeforeReplyEnds">;

export function basePlan(
  c: Context<AppEnv>,
  input: { model: ModelConfig; prompt: PreparedPrompt; sampling: Sampling; candidates: readonly Backend[]; admission: AdmittedRequest },
): BasePlan {
  const config = getConfig(c.env);
  return {
    completionId: `chatcmpl-${c.var.requestId}`,
    model: input.model.id,
    created: Math.floor(Date.now() / 1000),
    params: completionParams(input.model, input.prompt, input.sampling),
    candidates: input.candidates,
    admission: input.admission,
    poolHooks: poolHooks(c.env, (p) => c.executionCtx.waitUntil(p)),
    failover: config.failover,
    clientStallTimeoutMs: config.clientStallTimeoutMs,
    backendApiKey: c.env.BACKEND_API_KEY,
    stream: input.sampling.stream ?? false,
    includeUsage: input.sampling.stream_options?.include_usage ?? false,
  };
}
