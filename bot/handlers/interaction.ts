/**
 * Entry point for interactions: checks access and dispatches slash commands and button clicks.
 * Every failure becomes words in an ephemeral reply.
 */
import { MessageFlags, type ButtonInteraction, type ChatInputCommandInteraction, type Interaction } from "discord.js";
import { accessDeniedWords, decideAccess } from "../../discord/access.js";
import type { BotContext } from "../context.js";
import { RESTARTING_WORDS } from "../../discord/command-words.js";
import { errorToWords } from "../../discord/errors-to-words.js";
import { handleButton } from "./buttons.js";
import { handleCommand } from "./slash-commands.js";
import { accessContextFor } from "./place.js";

/** Reacts to one interaction (never throws). */
export async function handleInteraction(ctx: BotContext, interaction: Interaction): Promise<void> {
  if (!interaction.isChatInputCommand() && !interaction.isButton()) return;
  try {
    if (ctx.isShuttingDown()) {
      await interaction.reply({ content: RESTARTING_WORDS, flags: MessageFlags.Ephemeral });
      return;
    }
    const access = decideAccess(
      ctx.config.access,
      accessContextFor({ guildId: interaction.guildId, channel: interaction.channel, member: interaction.member }),
    );
    if (!access.allowed) {
      await interaction.reply({ content: accessDeniedWords(access.reason), flags: MessageFlags.Ephemeral });
      return;
    }
    if (interaction.isChatInputCommand()) await handleCommand(ctx, interaction);
    else await handleButton(ctx, interaction);
  } catch (error) {
    ctx.logger.warn("interaction failed", error);
    await replyWithError(interaction, errorToWords(error)).catch((e: unknown) => ctx.logger.error("could not report an error", e));
  }
}

async function replyWithError(interaction: ChatInputCommandInteraction | ButtonInteraction, words: string): Promise<void> {
  if (interaction.deferred || interaction.replied) await interaction.followUp({ content: words, flags: MessageFlags.Ephemeral });
  else await interaction.reply({ content: words, flags: MessageFlags.Ephemeral });
}
