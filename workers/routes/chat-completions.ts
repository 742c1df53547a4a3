/** POST /v1/chat/completions: OpenAI-compatible, stateless; the usage ledger is its only write. */
import { Hono } from "hono";
import { z } from "zod";
import { ChatMessage, SamplingParams } from "../../wire/openai.js";
import type { AppEnv } from "../app-env.js";
import { admit } from "../chat/admission.js";
import { basePlan } from "../chat/plan.js";
import { normaliseMessages, preparePrompt, resolveModel } from "../chat/prepare.js";
import { respond } from "../chat/respond.js";
import { getConfig } from "../config.js";
import { finishTurn } from "../db/turn-store.js";
import { newId } from "../auth/key-material.js";
import { readJsonBody } from "../http/json-body.js";
import { toVicunaConversation } from "../prompt/vicuna.js";
import { chooseCandidates } from "../upstream/candidates.js";
import { endUserOf } from "./end-user.js";

const ChatCompletionBody = z
  .object({
    model: z.string().min(1).max(128),
    messages: z.array(ChatMessage).min(1).max(1_000),
    /** Only one choice is generated; n=1 is accepted for compatibility. */
    n: z.literal(1).nullish(),
    ...SamplingParams,
  })
  .strict();

export const chatCompletionsRoutes = new Hono<AppEnv>().post("/", async (c) => {
  const config = getConfig(c.env);
  const body = await readJsonBody(c, ChatCompletionBody);
  const model = resolveModel(config, body.model);
  const conversation = toVicunaConversation(normaliseMessages(config, body.messages));
  const prompt = preparePrompt(model, conversation, body);
  const candidates = await chooseCandidates(c.env, { model: model.id, conversationId: null, prefixHash: prompt.prefixHash || null });
  const caller = c.var.caller;
  const owner = { keyId: caller.keyId, endUser: endUserOf(caller, body.user) };
  const admission = await admit(c, owner, prompt.promptTokens + prompt.maxTokens);
  const requestId = c.var.requestId;
  const record = (failed: boolean, promptTokens: number, completionTokens: number) =>
    finishTurn(c.env.DB, {
      owner,
      conversationId: null,
      requestId,
      model: model.id,
      assistant: null,
      usage: { promptTokens, completionTokens, failed },
      now: Date.now(),
    });

  return respond(c, {
    ...basePlan(c, { model, prompt, sampling: body, candidates, admission }),
    headers: {},
    persistBeforeReplyEnds: false,
    persist: (r) => record(r.status === "failed", r.promptTokens, r.completionTokens),
    rollback: (r) => record(true, r.promptTokens, r.completionTokens),
  });
});
