/**
 * `/share-data [consent:on|off]`: shows or sets whether the conversation of this thread or DM may
 * be exported as training data (the gateway's `training_consent`). Who may set it is decided by
 * `mayConsent` (discord/consent.ts): in a DM the user; in a thread its starter or a member with
 * Manage Server. Every answer is private to the caller.
 */
import { MessageFlags, PermissionFlagsBits, type ChatInputCommandInteraction, type ThreadChannel } from "discord.js";
import {
  CONSENT_NOTHING_YET_WORDS,
  CONSENT_WHERE_WORDS,
  consentChangedWords,
  consentRefusedWords,
  consentStateWords,
  mayConsent,
  threadStarterId,
} from "../../discord/consent.js";
import type { BotContext } from "../context.js";
import { conversationKeyFor } from "../../discord/conversation-key.js";
import { isDm } from "./place.js";

/** Answers never ping anyone: the starter is named, not notified. */
const NO_PINGS = { parse: [] };

export async function shareData(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  const channel = interaction.channel;
  const dm = isDm(channel);
  const thread = channel?.isThread() && channel.ownerId === ctx.client.user.id ? channel : null;
  if (!channel || !(dm || thread)) {
    await interaction.reply({ content: CONSENT_WHERE_WORDS, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const choice = interaction.options.getString("consent");
  const wanted = choice === null ? null : choice === "on";
  const userId = interaction.user.id;
  const ownerId = thread ? await starterOf(ctx, thread) : null;
  if (wanted !== null && !mayConsent({ isDm: dm, userId, ownerId, hasManageGuild: interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false })) {
    await interaction.editReply({ content: consentRefusedWords(ownerId), allowedMentions: NO_PINGS });
    return;
  }
  const key = conversationKeyFor({ channelId: channel.id, isDm: dm, userId });
  const conversation = await ctx.gateway.findConversation({ externalId: key.externalId, user: key.owner });
  if (!conversation) {
    await interaction.editReply(CONSENT_NOTHING_YET_WORDS);
    return;
  }
  if (wanted === null) {
    await interaction.editReply({ content: consentStateWords({ isDm: dm, consent: conversation.training_consent, ownerId }), allowedMentions: NO_PINGS });
    return;
  }
  const updated = await ctx.gateway.setTrainingConsent({ conversationId: conversation.id, consent: wanted, user: key.owner });
  ctx.logger.info("training consent set", { conversation: updated.id, consent: updated.training_consent, by: userId });
  await interaction.editReply(consentChangedWords({ isDm: dm, consent: updated.training_consent, changed: conversation.training_consent !== updated.training_consent }));
}

/** Who started one of the bot's threads, from the message it was started from; null if that is gone. */
async function starterOf(ctx: BotContext, thread: ThreadChannel): Promise<string | null> {
  try {
    const starter = await thread.fetchStarterMessage();
    return threadStarterId(
      starter && { authorId: starter.author.id, authorIsBot: starter.author.bot, interactionUserId: starter.interactionMetadata?.user.id ?? null },
    );
  } catch (error) {
    ctx.logger.info("thread starter message not found", { thread: thread.id, error: error instanceof Error ? error.message : String(error) });
    return null;
  }
}
