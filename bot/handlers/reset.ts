/**
 * /reset: stops any reply being written here and forgets this thread's or DM's conversation.
 */
import { MessageFlags, type ChatInputCommandInteraction } from "discord.js";
import { RESET_WHERE_WORDS, resetWords } from "../../discord/command-words.js";
import { conversationKeyFor } from "../../discord/conversation-key.js";
import type { BotContext } from "../context.js";
import { isDm } from "./place.js";

export async function reset(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  const channel = interaction.channel;
  if (!channel || !(isDm(channel) || channel.isThread())) {
    await interaction.reply({ content: RESET_WHERE_WORDS, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  ctx.runner.stop(channel.id);
  const key = conversationKeyFor({ channelId: channel.id, isDm: isDm(channel), userId: interaction.user.id });
  const existing = await ctx.gateway.findConversation({ externalId: key.externalId, user: key.owner });
  if (existing) await ctx.gateway.deleteConversation(existing.id, key.owner);
  await interaction.editReply(resetWords(existing !== null));
}
