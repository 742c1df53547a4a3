/**
 * Reads where a message or interaction happened (guild, channel, parent, roles) for access
 * control and conversation mapping.
 */
import { ChannelType, GuildMember, type Channel, type APIInteractionGuildMember } from "discord.js";
import type { AccessContext } from "../../discord/access.js";

/** Access context for a channel and member. */
export function accessContextFor(args: {
  guildId: string | null;
  channel: Channel | null;
  member: GuildMember | APIInteractionGuildMember | null;
}): AccessContext {
  const channelIds: string[] = [];
  if (args.channel) {
    channelIds.push(args.channel.id);
    if (args.channel.isThread() && args.channel.parentId) channelIds.push(args.channel.parentId);
  }
  let roleIds: string[] = [];
  if (args.member instanceof GuildMember) roleIds = [...args.member.roles.cache.keys()];
  else if (args.member) roleIds = args.member.roles;
  return { guildId: args.guildId, channelIds, roleIds };
}

/** Whether the channel is a DM with the bot. */
export function isDm(channel: Channel | null): boolean {
  return channel?.type === ChannelType.DM;
}
