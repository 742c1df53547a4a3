/**
 * Who may talk to the bot, decided from configuration. Pure.
 */

/** Who may talk to the bot; an empty list means "no restriction" on that dimension. */
export interface AccessConfig {
  allowedGuildIds: string[];
  allowedChannelIds: string[];
  allowedRoleIds: string[];
  allowDms: boolean;
}

/** Where a message or command came from. */
export interface AccessContext {
  /** Null in DMs. */
  guildId: string | null;
  /** The channel, and for threads also the parent channel (either may be allowed). */
  channelIds: string[];
  /** The member's role ids (empty in DMs). */
  roleIds: string[];
}

export type AccessDecision = { allowed: true } | { allowed: false; reason: "dms_off" | "guild" | "channel" | "role" };

/** Decides whether the bot answers in this place for this member. */
export function decideAccess(config: AccessConfig, ctx: AccessContext): AccessDecision {
  if (ctx.guildId === null) return config.allowDms ? { allowed: true } : { allowed: false, reason: "dms_off" };
  if (config.allowedGuildIds.length > 0 && !config.allowedGuildIds.includes(ctx.guildId)) {
    return { allowed: false, reason: "guild" };
  }
  if (config.allowedChannelIds.length > 0 && !ctx.channelIds.some((id) => config.allowedChannelIds.includes(id))) {
    return { allowed: false, reason: "channel" };
  }
  if (config.allowedRoleIds.length > 0 && !ctx.roleIds.some((id) => config.allowedRoleIds.includes(id))) {
    return { allowed: false, reason: "role" };
  }
  return { allowed: true };
}

/** What to tell someone who may not use the bot here. */
export function accessDeniedWords(reason: Exclude<AccessDecision, { allowed: true }>["reason"]): string {
  switch (reason) {
    case "dms_off":
      return "I don't answer direct messages here. Mention me in a server channel instead.";
    case "guild":
      return "I'm not enabled on this server.";
    case "channel":
      return "I'm not enabled in this channel. Try one of the channels the server admins set up for me.";
    case "role":
      return "You don't have a role that may use me. Ask the server admins for access.";
  }
}
