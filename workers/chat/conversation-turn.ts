/**
 * A turn of a server-side conversation: lock + append + read in one D1 batch, build and fit the
 * prompt, route to workers, answer, then store the reply and usage in one batch. Anything that
 * fails before the first token undoes the turn, so nothing is half-stored and a retry is clean.
 */
import type { Context } from "hono";
import { TURN_HEADERS } from "../../wire/conversations.js";
import type { ChatMessage, Sampling } from "../../wire/openai.js";
import type { AppEnv } from "../app-env.js";
import { newId } from "../auth/key-material.js";
import { getConfig } from "../config.js";
import type { Owner } from "../db/conversation-store.js";
import { abandonTurn, beginTurn, finishTurn } from "../db/turn-store.js";
import { GatewayError, invalidRequest, notFound } from "../errors.js";
import { checkConversation } from "../prompt/vicuna.js";
import { chooseCandidates } from "../upstream/candidates.js";
import { admit } from "./admission.js";
import { promptTurns, planRegenerate } from "./history.js";
import { basePlan } from "./plan.js";
import { messageTooLong, preparePrompt, resolveModel } from "./prepare.js";
import { respond } from "./respond.js";

export interface TurnInput {
  conversationId: string;
  owner: Owner;
  sampling: Sampling;
  /** The new user message, or null to regenerate the last reply. */
  userContent: string | null;
}

export function conversationNotFound(id: string): GatewayError {
  return notFound(`No conversation with id '${id}'.`, "conversation_not_found");
}

export async function runConversationTurn(c: Context<AppEnv>, input: TurnInput): Promise<Response> {
  const config = getConfig(c.env);
  const requestId = c.var.requestId;
  if (input.userContent !== null && input.userContent.length > config.maxMessageChars) {
    throw messageTooLong("content", config.maxMessageChars);
  }
  const userMessage = input.userContent === null ? null : { id: newId("msg"), content: input.userContent };
  const begun = await beginTurn(c.env.DB, {
    owner: input.owner,
    conversationId: input.conversationId,
    requestId,
    userMessage,
    now: Date.now(),
    lockMs: config.turnLockMs,
  });
  if (begun.kind === "not-found") throw conversationNotFound(input.conversationId);
  if (begun.kind === "busy") {
    throw new GatewayError({
      status: 409,
      type: "invalid_request_error",
      message: "Another turn of this conversation is in progress; send this one when it has finished.",
      param: null,
      code: "conversation_busy",
      headers: { "retry-after": "1" },
    });
  }
  const { conversation, messages } = begun;
  const modelId = conversation.model;
  const abandon = (countFailure: boolean) =>
    abandonTurn(c.env.DB, {
      owner: input.owner,
      conversationId: conversation.id,
      requestId,
      userMessageId: userMessage?.id ?? null,
      model: modelId,
      countFailure,
      now: Date.now(),
    });

  try {
    // messages includes the user message just appended; the reply would add one more.
    if (userMessage && messages.length + 1 > config.maxConversationMessages) {
      throw new GatewayError({
        status: 400,
        type: "invalid_request_error",
        message: `This conversation has reached its limit of ${config.maxConversationMessages} messages; start a new conversation.`,
        code: "conversation_too_long",
      });
    }
    let turns: ChatMessage[];
    let replacesMessageId: string | null = null;
    let userMessageId: string;
    if (userMessage) {
      turns = promptTurns(messages);
      userMessageId = userMessage.id;
    } else {
      const plan = planRegenerate(messages);
      if (!plan.ok) throw invalidRequest(plan.reason, null, "nothing_to_regenerate");
      ({ turns, replacesMessageId, userMessageId } = plan);
    }
    const model = resolveModel(config, modelId);
    const vicuna = { system: conversation.systemPrompt, messages: turns };
    checkConversation(vicuna);
    const prompt = preparePrompt(model, vicuna, input.sampling);
    const candidates = await chooseCandidates(c.env, { model: model.id, conversationId: conversation.id, prefixHash: prompt.prefixHash });
    const admission = await admit(c, input.owner, prompt.promptTokens + prompt.maxTokens);
    const assistantId = newId("msg");

    return await respond(c, {
      ...basePlan(c, { model, prompt, sampling: input.sampling, candidates, admission }),
      headers: {
        [TURN_HEADERS.conversationId]: conversation.id,
        [TURN_HEADERS.userMessageId]: userMessageId,
        [TURN_HEADERS.assistantMessageId]: assistantId,
      },
      persistBeforeReplyEnds: true,
      persist: (result) =>
        finishTurn(c.env.DB, {
          owner: input.owner,
          conversationId: conversation.id,
          requestId,
          model: model.id,
          assistant: { id: assistantId, content: result.text, status: result.status, workerId: result.workerId, replacesMessageId },
          usage: { promptTokens: result.promptTokens, completionTokens: result.completionTokens, failed: result.status === "failed" },
          now: Date.now(),
        }),
      rollback: () => abandon(true),
    });
  } catch (err) {
    // respond() has already undone a turn whose generation failed; this covers everything that
    // failed before a generation started (bad history, context overflow, no workers, a 429).
    // Undoing twice is harmless: the lock token no longer matches.
    await abandon(false).catch(() => undefined);
    throw err;
  }
}
