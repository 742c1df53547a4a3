/**
 * /usage: the member's usage and remaining allowance, as the gateway reports it.
 */
import { MessageFlags, type ChatInputCommandInteraction } from "discord.js";
import { usageToWords } from "../../discord/usage-words.js";
import type { BotContext } from "../context.js";

export async function usage(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const report = await ctx.gateway.usage(interaction.user.id);
  await interaction.editReply(usageToWords(report));
}
