/**
 * /chat, /reset, /model and /usage; /arena lives in arena.ts, /share-data in share-data.ts.
 */
import { ChannelType, MessageFlags, type ChatInputCommandInteraction } from "discord.js";
import { COMMAND_NAMES } from "../../discord/commands.js";
import type { BotContext } from "../context.js";
import { conversationKeyFor, threadNameFor } from "../../discord/conversation-key.js";
import {
  CANT_SEE_CHANNEL_WORDS,
  MODEL_WHERE_WORDS,
  RESET_WHERE_WORDS,
  THREADS_ONLY_IN_TEXT_CHANNELS_WORDS,
  UNKNOWN_COMMAND_WORDS,
  modelAlreadyWords,
  modelListWords,
  modelSwitchedWords,
  quotePromptWords,
  resetWords,
  unknownModelWords,
} from "../../discord/command-words.js";
import { usageToWords } from "../../discord/usage-words.js";
import { arena } from "./arena.js";
import { isDm } from "./place.js";
import { shareData } from "./share-data.js";

/** Handles one slash command. */
export async function handleCommand(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  switch (interaction.commandName) {
    case COMMAND_NAMES.chat:
      return chat(ctx, interaction);
    case COMMAND_NAMES.reset:
      return reset(ctx, interaction);
    case COMMAND_NAMES.model:
      return model(ctx, interaction);
    case COMMAND_NAMES.usage:
      return usage(ctx, interaction);
    case COMMAND_NAMES.arena:
      return arena(ctx, interaction);
    case COMMAND_NAMES.shareData:
      return shareData(ctx, interaction);
    default:
      await interaction.reply({ content: UNKNOWN_COMMAND_WORDS, flags: MessageFlags.Ephemeral });
  }
}

async function chat(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  const prompt = interaction.options.getString("prompt", true);
  const chosenModel = interaction.options.getString("model") ?? undefined;
  const channel = interaction.channel;
  const userId = interaction.user.id;
  if (!channel) {
    await interaction.reply({ content: CANT_SEE_CHANNEL_WORDS, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.reply({ content: quotePromptWords(userId, prompt), allowedMentions: { parse: [] } });
  const dm = isDm(channel);
  if (dm || channel.isThread()) {
    if (!channel.isSendable()) return;
    const key = conversationKeyFor({ channelId: channel.id, isDm: dm, userId });
    await ctx.runner.run({ channel, key, userId, kind: { type: "message", content: prompt, model: chosenModel } });
    return;
  }
  if (channel.type !== ChannelType.GuildText && channel.type !== ChannelType.GuildAnnouncement) {
    await interaction.followUp({ content: THREADS_ONLY_IN_TEXT_CHANNELS_WORDS, flags: MessageFlags.Ephemeral });
    return;
  }
  const reply = await interaction.fetchReply();
  const thread = await reply.startThread({ name: threadNameFor(prompt, `Chat with ${ctx.client.user.username}`) });
  const key = conversationKeyFor({ channelId: thread.id, isDm: false, userId });
  await ctx.runner.run({ channel: thread, key, userId, kind: { type: "message", content: prompt, model: chosenModel } });
}

async function reset(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
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

async function model(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
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

async function usage(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const report = await ctx.gateway.usage(interaction.user.id);
  await interaction.editReply(usageToWords(report));
}
