/**
 * 👍 / 👎 reactions on the bot's replies: the reacting user's feedback on that answer. Every other
 * emoji, the bot's own reactions and other bots' are ignored, and nothing is ever said in the
 * channel about a reaction (failures are logged).
 */
import type { MessageReaction, PartialMessageReaction, PartialUser, User } from "discord.js";
import { decideAccess } from "../../discord/access.js";
import type { BotContext } from "../context.js";
import { ratingForEmoji } from "../reaction-rating.js";
import { accessContextFor } from "./place.js";

/** Handles one reaction added or removed (never throws). */
export async function handleReaction(
  ctx: BotContext,
  kind: "add" | "remove",
  reaction: MessageReaction | PartialMessageReaction,
  user: User | PartialUser,
): Promise<void> {
  try {
    // `bot` is unknown (null) on a partial user; the bot's own id is always known.
    if (user.id === ctx.client.user.id || user.bot === true || ctx.isShuttingDown()) return;
    const rating = ratingForEmoji(reaction.emoji.name);
    if (!rating) return;
    const message = reaction.message;
    if (!ctx.feedback.isTracked(message.id)) return;
    if (kind === "add") {
      // Same rule as for talking to the bot; a removal only undoes what an allowed add did.
      const member = message.guild?.members.cache.get(user.id) ?? null;
      const access = decideAccess(ctx.config.access, accessContextFor({ guildId: message.guildId, channel: message.channel, member }));
      if (!access.allowed) return;
    }
    await ctx.feedback.onThumb({ kind, discordMessageId: message.id, userId: user.id, rating });
  } catch (error) {
    ctx.logger.error("reaction handler failed", error);
  }
}
