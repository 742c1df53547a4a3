/**
 * /chat, /reset, /model and /usage; /arena lives in arena.ts, /share-data in share-data.ts.
 */
import { ChannelType, MessageFlags, type ChatInputCommandInteraction } from "discord.js";
import { COMMAND_NAMES } from "../commands.js";
import type { BotContext } from "../context.js";
import { conversationKeyFor, threadNameFor } from "../conversation-key.js";
import { usageToWords } from "../usage-words.js";
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
      await interaction.reply({ content: "I don't know that command.", flags: MessageFlags.Ephemeral });
  }
}

/** Quotes the prompt so the channel sees what was asked. */
function quotePrompt(userId: string, prompt: string): string {
  const quoted = prompt.length > 1800 ? `${prompt.slice(0, 1800)}…` : prompt;
  return `<@${userId}> asked:\n${quoted.replace(/^/gm, "> ")}`;
}

async function chat(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  const prompt = interaction.options.getString("prompt", true);
  const chosenModel = interaction.options.getString("model") ?? undefined;
  const channel = interaction.channel;
  const userId = interaction.user.id;
  if (!channel) {
    await interaction.reply({ content: "I can't see this channel.", flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.reply({ content: quotePrompt(userId, prompt), allowedMentions: { parse: [] } });
  const dm = isDm(channel);
  if (dm || channel.isThread()) {
    if (!channel.isSendable()) return;
    const key = conversationKeyFor({ channelId: channel.id, isDm: dm, userId });
    await ctx.runner.run({ channel, key, userId, kind: { type: "message", content: prompt, model: chosenModel } });
    return;
  }
  if (channel.type !== ChannelType.GuildText && channel.type !== ChannelType.GuildAnnouncement) {
    await interaction.followUp({ content: "I can only start threads in text channels.", flags: MessageFlags.Ephemeral });
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
    await interaction.reply({
      content: "Use /reset inside one of my threads or in our DM. In a channel, mention me or use /chat to start a fresh thread.",
      flags: MessageFlags.Ephemeral,
    });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  ctx.runner.stop(channel.id);
  const key = conversationKeyFor({ channelId: channel.id, isDm: isDm(channel), userId: interaction.user.id });
  const existing = await ctx.gateway.findConversation({ externalId: key.externalId, user: key.owner });
  if (existing) await ctx.gateway.deleteConversation(existing.id, key.owner);
  await interaction.editReply(
    existing ? "Done: I've forgotten this conversation. Your next message starts a fresh one." : "There was nothing to forget here yet.",
  );
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
    const list = models.map((m) => `• \`${m}\`${current?.model === m ? " (this conversation)" : ""}`).join("\n");
    await interaction.editReply(`Models available:\n${list || "(none right now)"}\n-# Switch with /model name:<model>; in a channel, /chat has a model option.`);
    return;
  }
  if (!models.includes(wanted)) {
    await interaction.editReply(`I don't know the model \`${wanted}\`. Available: ${models.map((m) => `\`${m}\``).join(", ") || "none right now"}.`);
    return;
  }
  if (!key) {
    await interaction.editReply("Use /model inside one of my threads or in our DM, or start a thread with `/chat model:<model>`.");
    return;
  }
  if (current?.model === wanted) {
    await interaction.editReply(`This conversation already uses \`${wanted}\`.`);
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
  await interaction.editReply(`Switched to \`${wanted}\`. ${current ? "This starts a fresh conversation here." : ""}`.trim());
}

async function usage(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const report = await ctx.gateway.usage(interaction.user.id);
  await interaction.editReply(usageToWords(report));
}
