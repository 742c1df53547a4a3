/**
 * Runs a deferred command to its end: the same calls, meaning and words as the bot process's
 * handlers (bot/handlers/slash-commands.ts, bot/handlers/arena.ts), shown by editing the
 * interaction's original message and posting follow-ups.
 */
import { revealWords, viewArenaPost, voteButtons } from "../../discord/arena-view.js";
import { MODEL_WHERE_WORDS, modelAlreadyWords, modelListWords, modelSwitchedWords, resetWords, unknownModelWords } from "../../discord/command-words.js";
import { CONSENT_NOTHING_YET_WORDS, consentChangedWords, consentRefusedWords, consentStateWords, mayConsent } from "../../discord/consent.js";
import { conversationKeyFor, type ConversationKey } from "../../discord/conversation-key.js";
import { errorToWords } from "../../discord/errors-to-words.js";
import { usageToWords } from "../../discord/usage-words.js";
import type { ArenaBattle } from "../../wire/arena.js";
import type { DiscordConfig } from "./discord-config.js";
import type { InProcessGateway } from "./in-process-gateway.js";
import type { InteractionJob } from "./interaction.js";
import { WebhookReplyStream } from "./reply-stream.js";
import { readTurnEvents } from "./turn-events.js";
import type { InteractionWebhook } from "./webhook-client.js";

export interface CommandDeps {
  gateway: InProcessGateway;
  webhook: InteractionWebhook;
  config: DiscordConfig;
}

/** Where the conversation of a thread or DM is; null in a guild channel. */
function placeKey(job: InteractionJob): ConversationKey | null {
  if (job.place === "channel") return null;
  return conversationKeyFor({ channelId: job.channelId, isDm: job.place === "dm", userId: job.userId });
}

/** Runs `job`; every failure ends as words in the original message. */
export async function runCommand(deps: CommandDeps, job: InteractionJob): Promise<void> {
  if (job.command.name === "chat") return chat(deps, job, job.command);
  try {
    switch (job.command.name) {
      case "reset":
        return await reset(deps, job);
      case "model":
        return await model(deps, job, job.command.wanted);
      case "usage":
        await deps.webhook.editOriginal({ content: usageToWords(await deps.gateway.usage(job.userId)) });
        return;
      case "arena":
        return await arena(deps, job, job.command.question);
      case "share-data":
        return await shareData(deps, job, job.command);
    }
  } catch (error) {
    console.warn(`discord: /${job.command.name} failed`, error);
    await deps.webhook.editOriginal({ content: errorToWords(error) });
  }
}

/**
 * `/chat`: in a thread or DM, a turn of that place's conversation; in a guild channel, a fresh
 * conversation keyed by the answer's own message id — the id Discord gives a thread started from
 * that message, so a thread made from the answer (by a member, or the bot process) continues it.
 */
async function chat(deps: CommandDeps, job: InteractionJob, command: { prompt: string; model: string | null }): Promise<void> {
  const { gateway, webhook, config } = deps;
  const reply = new WebhookReplyStream({ webhook, editIntervalMs: config.editIntervalMs });
  const controller = new AbortController();
  // The token dies 15 minutes after the interaction; a reply nobody can see any more is stopped.
  const untilExpiry = Math.max(0, webhook.expiresAtMs - Date.now());
  const expiry = setTimeout(() => controller.abort("token expired"), untilExpiry);
  try {
    const key = placeKey(job) ?? conversationKeyFor({ channelId: await webhook.getOriginalId(), isDm: false, userId: job.userId });
    const conversation = await gateway.ensureConversation({
      external_id: key.externalId,
      ...(key.owner ? { user: key.owner } : {}),
      ...(command.model ? { model: command.model } : {}),
      ...(config.systemPrompt ? { system_prompt: config.systemPrompt } : {}),
      metadata: { source: "discord", channel_id: job.channelId },
    });
    const turn = await gateway.sendTurn({
      conversationId: conversation.id,
      body: { content: command.prompt, user: job.userId, stream: true, ...(config.maxTokens ? { max_tokens: config.maxTokens } : {}) },
      signal: controller.signal,
    });
    let finishReason = "stop";
    for await (const event of readTurnEvents(turn.body)) {
      if (controller.signal.aborted) break;
      if (event.kind === "delta") reply.append(event.text);
      else finishReason = event.reason;
    }
    if (controller.signal.aborted) return;
    await reply.finish(finishReason === "length" ? { kind: "length" } : { kind: "complete" });
  } catch (error) {
    if (controller.signal.aborted) return;
    console.warn("discord: /chat turn failed", error);
    await reply.finish({ kind: "failed", words: errorToWords(error) });
  } finally {
    clearTimeout(expiry);
  }
}

async function reset(deps: CommandDeps, job: InteractionJob): Promise<void> {
  const key = placeKey(job)!;
  const existing = await deps.gateway.findConversation({ externalId: key.externalId, user: key.owner });
  if (existing) await deps.gateway.deleteConversation(existing.id, key.owner);
  await deps.webhook.editOriginal({ content: resetWords(existing !== null) });
}

async function model(deps: CommandDeps, job: InteractionJob, wanted: string | null): Promise<void> {
  const { gateway, webhook, config } = deps;
  const models = await gateway.listModels();
  const key = placeKey(job);
  const current = key ? await gateway.findConversation({ externalId: key.externalId, user: key.owner }) : null;
  const say = (content: string) => webhook.editOriginal({ content });
  if (!wanted) {
    await say(modelListWords(models, current?.model ?? null));
    return;
  }
  if (!models.includes(wanted)) {
    await say(unknownModelWords(wanted, models));
    return;
  }
  if (!key) {
    await say(MODEL_WHERE_WORDS);
    return;
  }
  if (current?.model === wanted) {
    await say(modelAlreadyWords(wanted));
    return;
  }
  // As in the bot: a conversation's model is fixed at creation, so switching starts a fresh one
  // (keeping this place's training-data consent).
  if (current) await gateway.deleteConversation(current.id, key.owner);
  await gateway.ensureConversation({
    external_id: key.externalId,
    model: wanted,
    ...(current ? { training_consent: current.training_consent } : {}),
    ...(key.owner ? { user: key.owner } : {}),
    ...(config.systemPrompt ? { system_prompt: config.systemPrompt } : {}),
    metadata: { source: "discord", channel_id: job.channelId },
  });
  await say(modelSwitchedWords(wanted, current !== null));
}

/**
 * `/share-data [consent:on|off]` in a thread or DM (the route answers it elsewhere). Who may decide
 * is the bot's rule (discord/consent.ts), except that a thread's starter is unknown here — reading
 * the message a thread was started from needs a bot token — so in threads only members with
 * Manage Server decide, and the words say so.
 */
async function shareData(deps: CommandDeps, job: InteractionJob, command: { consent: boolean | null; hasManageGuild: boolean }): Promise<void> {
  const { gateway, webhook } = deps;
  const isDm = job.place === "dm";
  const ownerId = null;
  const say = (content: string) => webhook.editOriginal({ content });
  if (command.consent !== null && !mayConsent({ isDm, userId: job.userId, ownerId, hasManageGuild: command.hasManageGuild })) {
    await say(consentRefusedWords(ownerId));
    return;
  }
  const key = placeKey(job)!;
  const conversation = await gateway.findConversation({ externalId: key.externalId, user: key.owner });
  if (!conversation) {
    await say(CONSENT_NOTHING_YET_WORDS);
    return;
  }
  if (command.consent === null) {
    await say(consentStateWords({ isDm, consent: conversation.training_consent, ownerId }));
    return;
  }
  const updated = await gateway.setTrainingConsent({ conversationId: conversation.id, consent: command.consent, user: key.owner });
  await say(consentChangedWords({ isDm, consent: updated.training_consent, changed: conversation.training_consent !== updated.training_consent }));
}

/** The vote buttons as a Discord action row (styles: primary for A and B, secondary for the rest). */
export function voteRow(battleId: string, askerId: string): unknown[] {
  const style = { a: 1, b: 1, tie: 2, bothbad: 2 } as const;
  return [{ type: 1, components: voteButtons(battleId, askerId).map((b) => ({ type: 2, style: style[b.winner], label: b.label, custom_id: b.customId })) }];
}

/** `/arena`: both answers once both are done (as the bot posts them), then the vote. */
async function arena(deps: CommandDeps, job: InteractionJob, question: string): Promise<void> {
  const { gateway, webhook, config } = deps;
  const result = await gateway.createBattle({
    content: question,
    user: job.userId,
    ...(config.systemPrompt ? { system_prompt: config.systemPrompt } : {}),
    ...(config.maxTokens ? { max_tokens: config.maxTokens } : {}),
  });
  const view = viewArenaPost({ askerId: job.userId, question, result });
  for (const [i, content] of view.messages.entries()) {
    const isLast = i === view.messages.length - 1;
    const components = isLast && view.votable ? voteRow(result.id, job.userId) : [];
    if (i === 0) await webhook.editOriginal({ content, components });
    else await webhook.followUp({ content, components });
  }
}

/** The vote message after a vote: both names, no buttons. */
export function revealedMessage(battle: ArenaBattle): { content: string; components: unknown[]; allowed_mentions: { parse: string[] } } {
  return { content: revealWords(battle), components: [], allowed_mentions: { parse: [] } };
}
