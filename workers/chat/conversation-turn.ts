/**
 * A turn of a server-side conversation. Admission comes first, on an estimate (the history is
 * not read yet), so a turn the limits refuse costs no D1 round trip; then one D1 batch takes the
 * conversation's lock, appends the user message and reads the history with its stored token ids;
 * the one generation path (answer.ts) does the rest, and the reply, usage and the token ids the
 * turn computed (the new message, the previous reply) are stored in a second batch. Anything that
 * fails before the first token undoes the turn in one batch, so nothing is half-stored and a
 * retry is clean.
 */
import type { Context } from "hono";
import { TURN_HEADERS } from "../../wire/conversations.js";
import type { Sampling } from "../../wire/openai.js";
import type { AppEnv } from "../app-env.js";
import { newId } from "../auth/key-material.js";
import { getConfig, type GatewayConfig } from "../config.js";
import type { Owner } from "../db/conversation-store.js";
import { abandonTurn, beginTurn, finishTurn } from "../db/turn-store.js";
import { GatewayError, invalidRequest, notFound } from "../errors.js";
import { requestedMaxTokens, type ModelRuntime } from "../models/runtime.js";
import type { NewMessageTokens } from "../prompt/index.js";
import { admit, estimateTextTokens, type AdmittedRequest } from "./admission.js";
import { answer } from "./answer.js";
import { planEdit, planRegenerate, promptRows, storedTokens, type StoredMessage } from "./history.js";
import { messageTooLong, resolveModel } from "./prepare.js";
import type { TurnStore } from "./respond.js";

export interface TurnInput {
  conversationId: string;
  owner: Owner;
  sampling: Sampling;
  /** The new user message, or null to regenerate the last reply. */
  userContent: string | null;
  /** Edit and resend: the last user message that `userContent` replaces (with its replies). */
  replacesUserMessageId: string | null;
  /**
   * Set by an arena battle, which runs two turns in one request: each needs its own request id
   * (the lock token and the limiter's reservation) and was admitted before either began.
   */
  arena?: { requestId: string; admission: AdmittedRequest };
}

export function conversationNotFound(id: string): GatewayError {
  return notFound(`No conversation with id '${id}'.`, "conversation_not_found");
}

/**
 * What a turn reserves before its conversation is read: the new message's tokens estimated without
 * a tokenizer, plus max_tokens (the default model's default when not given).
 */
export function turnEstimate(config: GatewayConfig, userContent: string | null, sampling: Sampling): number {
  return estimateTextTokens(userContent ?? "") + (requestedMaxTokens(sampling) ?? config.defaultModel.defaultMaxTokens);
}

export async function runConversationTurn(c: Context<AppEnv>, input: TurnInput): Promise<Response> {
  const config = getConfig(c.env);
  const requestId = input.arena?.requestId ?? c.var.requestId;
  if (input.userContent !== null && input.userContent.length > config.maxMessageChars) {
    throw messageTooLong("content", config.maxMessageChars);
  }
  // The model (and so its tokenizer and default max_tokens) is the conversation's, unknown until
  // it is read: the estimate uses the default model's. Settlement charges the real prompt,
  // history included.
  const admission = input.arena?.admission ?? (await admit(c, input.owner, turnEstimate(config, input.userContent, input.sampling)));
  const userMessage = input.userContent === null ? null : { id: newId("msg"), content: input.userContent };
  let undo: TurnStore["undo"] | null = null;
  try {
    const begun = await beginTurn(c.env.DB, {
      owner: input.owner,
      conversationId: input.conversationId,
      requestId,
      userMessage,
      now: Date.now(),
      lockMs: config.turnLockMs,
      arenaSealed: input.arena !== undefined,
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
    // One undo per turn: the generation may undo a failed turn before this function's catch sees
    // it. Marked done only once it succeeded, so a retry after a D1 hiccup still runs.
    let undone = false;
    undo = async (result) => {
      if (undone) return;
      await abandonTurn(c.env.DB, {
        owner: input.owner,
        conversationId: conversation.id,
        requestId,
        userMessageId: userMessage?.id ?? null,
        model: conversation.model,
        countFailure: result !== null,
        now: Date.now(),
      });
      undone = true;
    };

    // Edit and resend: the replaced messages leave the prompt now and the store with the reply
    // (finishTurn); a turn undone before its first token removes only the new message.
    let removedMessageIds: string[] = [];
    let editedRows: StoredMessage[] | null = null;
    if (userMessage && input.replacesUserMessageId !== null) {
      const plan = planEdit(messages, input.replacesUserMessageId, userMessage.id);
      if (!plan.ok) throw invalidRequest(plan.reason, "replaces", "not_last_user_message");
      ({ rows: editedRows, removedIds: removedMessageIds } = plan);
    }
    // messages includes the user message just appended; the reply would add one more.
    if (userMessage && messages.length - removedMessageIds.length + 1 > config.maxConversationMessages) {
      throw new GatewayError({
        status: 400,
        type: "invalid_request_error",
        message: `This conversation has reached its limit of ${config.maxConversationMessages} messages; start a new conversation.`,
        code: "conversation_too_long",
      });
    }
    let rows: StoredMessage[];
    let replacesMessageId: string | null = null;
    let userMessageId: string;
    if (userMessage) {
      rows = editedRows ?? promptRows(messages);
      userMessageId = userMessage.id;
    } else {
      const plan = planRegenerate(messages);
      if (!plan.ok) throw invalidRequest(plan.reason, null, "nothing_to_regenerate");
      ({ rows, replacesMessageId, userMessageId } = plan);
    }
    const model = resolveModel(config, conversation.model);
    // The token ids the runtime computes for messages stored without them go into the after-batch.
    let newTokens: readonly NewMessageTokens[] = [];
    const runtime: ModelRuntime = {
      ...model,
      prepare(prepareInput) {
        const prepared = model.prepare(prepareInput);
        newTokens = prepared.newMessageTokens ?? [];
        return prepared;
      },
    };
    const assistantId = newId("msg");

    return await answer(c, {
      owner: input.owner,
      runtime,
      conversation: {
        system: conversation.systemPrompt,
        messages: rows.map((row) => ({ role: row.role, content: row.content })),
        tokens: storedTokens(rows),
      },
      sampling: input.sampling,
      // A stored conversation outgrows any window: its oldest turns are dropped, and the reply says how many.
      truncate: true,
      conversationId: conversation.id,
      admission,
      store: {
        headers: {
          [TURN_HEADERS.conversationId]: conversation.id,
          [TURN_HEADERS.userMessageId]: userMessageId,
          [TURN_HEADERS.assistantMessageId]: assistantId,
        },
        storeBeforeReplyEnds: true,
        save: (result) =>
          finishTurn(c.env.DB, {
            owner: input.owner,
            conversationId: conversation.id,
            requestId,
            model: runtime.id,
            assistant: { id: assistantId, content: result.text, status: result.status, workerId: result.workerId, replacesMessageId },
            removedMessageIds,
            usage: { promptTokens: result.promptTokens, completionTokens: result.completionTokens, failed: result.status === "failed" },
            messageTokens: newTokens.map((t) => ({ messageId: rows[t.message]!.id, key: t.key, bytes: t.bytes })),
            now: Date.now(),
          }),
        undo,
      },
    });
  } catch (err) {
    // Everything that failed before a generation started (not found, busy, bad history, context
    // overflow, no workers) releases its reservation and, once the turn began, undoes it.
    c.executionCtx.waitUntil(admission.settle(null));
    if (undo) await undo(null).catch(() => undefined);
    throw err;
  }
}
