/**
 * POST /v1/chat/completions: OpenAI-compatible, stateless. It writes nothing to D1: its usage
 * travels with the limiter's settlement, which buffers it and writes the ledger in batches.
 */
import { Hono } from "hono";
import { z } from "zod";
import { ChatMessage, SamplingParams } from "../../wire/openai.js";
import type { AppEnv } from "../app-env.js";
import { answer } from "../chat/answer.js";
import { normaliseMessages, resolveModel } from "../chat/prepare.js";
import { getConfig } from "../config.js";
import { readJsonBody } from "../http/json-body.js";
import { toChatConversation } from "../prompt/index.js";
import { endUserOf } from "./end-user.js";

export const ChatCompletionBody = z
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
  const runtime = resolveModel(config, body.model);
  const owner = { keyId: c.var.caller.keyId, endUser: endUserOf(c.var.caller, body.user) };

  return answer(c, {
    owner,
    runtime,
    conversation: toChatConversation(normaliseMessages(config, body.messages)),
    sampling: body,
    // A client that sends the history expects it used, as OpenAI does: trimming is opt-in.
    truncate: body.truncation === "auto",
    conversationId: null,
    store: {
      headers: {},
      storeBeforeReplyEnds: false,
      usageWithSettlement: true,
      save: async () => undefined,
      undo: async () => undefined,
    },
  });
});
