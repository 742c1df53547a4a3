/**
 * /chat: quotes the prompt, then answers in a new thread (or right here in a thread or DM).
 */
import { ChannelType, MessageFlags, type ChatInputCommandInteraction } from "discord.js";
import { CANT_SEE_CHANNEL_WORDS, THREADS_ONLY_IN_TEXT_CHANNELS_WORDS, quotePromptWords } from "../../discord/command-words.js";
import { conversationKeyFor, threadNameFor } from "../../discord/conversation-key.js";
import type { BotContext } from "../context.js";
import { isDm } from "./place.js";

export async function chat(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
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
