/**
 * Handles a Discord message: a mention in a channel starts a thread and answers there; any
 * message in one of the bot's threads (or a mention in another thread) continues that thread's
 * conversation; a DM continues the user's DM conversation.
 */
import { ChannelType, MessageType, type Message } from "discord.js";
import { accessDeniedWords, decideAccess } from "../../discord/access.js";
import type { BotContext } from "../context.js";
import { conversationKeyFor, stripBotMention, threadNameFor } from "../../discord/conversation-key.js";
import { accessContextFor } from "./place.js";

const HANDLED_TYPES = new Set([MessageType.Default, MessageType.Reply]);

/** Reacts to one incoming message (never throws). */
export async function handleMessage(ctx: BotContext, message: Message): Promise<void> {
  try {
    await handle(ctx, message);
  } catch (error) {
    ctx.logger.error("message handler failed", error);
  }
}

async function handle(ctx: BotContext, message: Message): Promise<void> {
  if (message.author.bot || !HANDLED_TYPES.has(message.type) || ctx.isShuttingDown()) return;
  const me = ctx.client.user.id;
  const channel = message.channel;
  const isDmChannel = channel.type === ChannelType.DM;
  const mentioned = message.mentions.users.has(me);
  const inOwnThread = channel.isThread() && channel.ownerId === me;
  if (!isDmChannel && !mentioned && !inOwnThread) return;

  const access = decideAccess(ctx.config.access, accessContextFor({ guildId: message.guildId, channel, member: message.member }));
  if (!access.allowed) {
    // Only answer people who addressed the bot; elsewhere stay out of the conversation.
    if (mentioned || isDmChannel) await message.reply(accessDeniedWords(access.reason));
    return;
  }

  const content = stripBotMention(message.content, me);
  if (content === "") {
    await message.reply("Ask me something after the mention, e.g. `@me what is a llama?`");
    return;
  }

  if (isDmChannel || channel.isThread()) {
    if (!channel.isSendable()) return;
    const key = conversationKeyFor({ channelId: channel.id, isDm: isDmChannel, userId: message.author.id });
    await ctx.runner.run({ channel, key, userId: message.author.id, kind: { type: "message", content } });
    return;
  }

  if (channel.type !== ChannelType.GuildText && channel.type !== ChannelType.GuildAnnouncement) {
    await message.reply("I can only start threads in text channels. Mention me in a text channel or DM me.");
    return;
  }
  const thread = await message.startThread({ name: threadNameFor(content, `Chat with ${ctx.client.user.username}`) });
  const key = conversationKeyFor({ channelId: thread.id, isDm: false, userId: message.author.id });
  await ctx.runner.run({ channel: thread, key, userId: message.author.id, kind: { type: "message", content } });
}
