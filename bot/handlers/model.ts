/**
 * /model: lists the models, or switches this thread's or DM's conversation to another (a fresh one).
 */
import { MessageFlags, type ChatInputCommandInteraction } from "discord.js";
import { MODEL_WHERE_WORDS, modelAlreadyWords, modelListWords, modelSwitchedWords, unknownModelWords } from "../../discord/command-words.js";
import { conversationKeyFor } from "../../discord/conversation-key.js";
import type { BotContext } from "../context.js";
import { isDm } from "./place.js";

export async function model(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const wanted = interaction.options.getString("name");
  const models = await ctx.gateway.listModels();
  const channel = interaction.channel;
  const inConversationPlace = channel !== null && (isDm(channel) || channel.isThread());
  const key = channel && inConversationPlace ? conversationKeyFor({ channelId: channel.id, isDm: isDm(channel), userId: interaction.user.id }) : null;
  const current = key ? await ctx.gateway.findConversation({ externalId: key.externalId, user: key.owner }) : null;
  if (!wanted) {
    await interaction.editReply(modelListWords(models, current?.model ?? null));
    return;
  }
  if (!models.includes(wanted)) {
    await interaction.editReply(unknownModelWords(wanted, models));
    return;
  }
  if (!key) {
    await interaction.editReply(MODEL_WHERE_WORDS);
    return;
  }
  if (current?.model === wanted) {
    await interaction.editReply(modelAlreadyWords(wanted));
    return;
  }
  // The gateway fixes a conversation's model at creation: switching starts a fresh conversation,
  // so the choice lives in the gateway and survives a restart of the bot. The training-data
  // consent given here carries over to the fresh conversation (it is about this place, not a model).
  if (current) await ctx.gateway.deleteConversation(current.id, key.owner);
  await ctx.gateway.ensureConversation({
    external_id: key.externalId,
    model: wanted,
    ...(current ? { training_consent: current.training_consent } : {}),
    ...(key.owner ? { user: key.owner } : {}),
    ...(ctx.config.systemPrompt ? { system_prompt: ctx.config.systemPrompt } : {}),
    metadata: { source: "discord", channel_id: channel?.id ?? "" },
  });
  await interaction.editReply(modelSwitchedWords(wanted, current !== null));
}
