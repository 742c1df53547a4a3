/**
 * Stop and Regenerate buttons under the bot's replies, and the arena's vote buttons.
 */
import { MessageFlags, type ButtonInteraction } from "discord.js";
import { ARENA_VOTE_PREFIX, decodeVoteId } from "../../discord/arena-view.js";
import type { BotContext } from "../context.js";
import { conversationKeyFor } from "../../discord/conversation-key.js";
import { BUTTON_IDS } from "../stream-renderer.js";
import { vote } from "./arena.js";
import { isDm } from "./place.js";

/** Handles a click on Stop, Regenerate or an arena vote. */
export async function handleButton(ctx: BotContext, interaction: ButtonInteraction): Promise<void> {
  if (interaction.customId.startsWith(ARENA_VOTE_PREFIX)) {
    const button = decodeVoteId(interaction.customId);
    if (button) await vote(ctx, interaction, button);
    else await interaction.reply({ content: "I don't recognise this button any more.", flags: MessageFlags.Ephemeral });
    return;
  }
  if (interaction.customId === BUTTON_IDS.stop) {
    const stopped = ctx.runner.stop(interaction.channelId);
    // The renderer edits the message to its stopped state; acknowledge without changing it here.
    if (stopped) await interaction.deferUpdate();
    else await interaction.reply({ content: "Nothing is being written right now.", flags: MessageFlags.Ephemeral });
    return;
  }
  if (interaction.customId.startsWith(BUTTON_IDS.regeneratePrefix)) {
    await regenerate(ctx, interaction, interaction.customId.slice(BUTTON_IDS.regeneratePrefix.length) || null);
  }
}

async function regenerate(ctx: BotContext, interaction: ButtonInteraction, assistantMessageId: string | null): Promise<void> {
  const channel = interaction.channel;
  if (!channel || !channel.isSendable()) return;
  if (ctx.runner.isRunning(channel.id)) {
    await interaction.reply({ content: "I'm still writing here; press Stop first.", flags: MessageFlags.Ephemeral });
    return;
  }
  const key = conversationKeyFor({ channelId: channel.id, isDm: isDm(channel), userId: interaction.user.id });
  const conversation = await ctx.gateway.findConversation({ externalId: key.externalId, user: key.owner });
  if (!conversation) {
    await interaction.reply({ content: "This conversation was reset, so there is nothing to regenerate.", flags: MessageFlags.Ephemeral });
    return;
  }
  if (assistantMessageId) {
    // Only the latest answer can be replaced; an older button would silently replace a newer one.
    const full = await ctx.gateway.getConversation(conversation.id, key.owner);
    const lastAssistant = full.messages.filter((m) => m.role === "assistant").at(-1);
    if (lastAssistant && lastAssistant.id !== assistantMessageId) {
      await interaction.reply({ content: "Only the latest answer can be regenerated.", flags: MessageFlags.Ephemeral });
      return;
    }
  }
  const old = interaction.message.content;
  await interaction.update({ content: `${old}\n-# 🔄 regenerated below`, components: [] });
  await ctx.runner.run({ channel, key, userId: interaction.user.id, kind: { type: "regenerate" } });
}
