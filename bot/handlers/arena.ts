/**
 * /arena and its vote buttons. The battle is created as the member who asked (`user` = their
 * Discord id), so it is theirs in the gateway; the answers are posted as "Model A" and "Model B"
 * once both are done (not streamed: see bot/README.md), then a vote message whose buttons only
 * that member may use. Their vote reveals the two models.
 */
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  MessageFlags,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type InteractionEditReplyOptions,
} from "discord.js";
import type { ArenaBattle } from "../../wire/arena.js";
import { revealWords, viewArenaPost, voteButtons, voteRefusedWords, type ArenaVoteButton } from "../../discord/arena-view.js";
import type { BotContext } from "../context.js";
import { errorToWords } from "../../discord/errors-to-words.js";
import { GatewayCallError } from "../../discord/gateway-error.js";

/** The arena's messages never ping anyone: the asker is named, not notified. */
const NO_PINGS = { parse: [] };

function voteRow(battleId: string, askerId: string): ActionRowBuilder<ButtonBuilder> {
  const styles = { a: ButtonStyle.Primary, b: ButtonStyle.Primary, tie: ButtonStyle.Secondary, bothbad: ButtonStyle.Secondary } as const;
  const row = new ActionRowBuilder<ButtonBuilder>();
  for (const b of voteButtons(battleId, askerId)) row.addComponents(new ButtonBuilder().setCustomId(b.customId).setLabel(b.label).setStyle(styles[b.winner]));
  return row;
}

/** `/arena question:<text>`: both answers, then the vote. */
export async function arena(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  const question = interaction.options.getString("question", true);
  const askerId = interaction.user.id;
  await interaction.deferReply();
  let result;
  try {
    result = await ctx.gateway.createBattle({
      content: question,
      user: askerId,
      ...(ctx.config.systemPrompt ? { system_prompt: ctx.config.systemPrompt } : {}),
      ...(ctx.config.maxTokens ? { max_tokens: ctx.config.maxTokens } : {}),
    });
  } catch (error) {
    ctx.logger.warn("arena battle failed", error);
    // The deferred "thinking…" message becomes the words (a follow-up would leave it thinking).
    await interaction.editReply({ content: errorToWords(error), allowedMentions: NO_PINGS });
    return;
  }
  const view = viewArenaPost({ askerId, question, result });
  ctx.logger.info("arena battle posted", { battle: result.id, status: result.status, messages: view.messages.length });
  for (const [i, content] of view.messages.entries()) {
    const isLast = i === view.messages.length - 1;
    const components = isLast && view.votable ? [voteRow(result.id, askerId)] : [];
    if (i === 0) await interaction.editReply({ content, components, allowedMentions: NO_PINGS });
    else await interaction.followUp({ content, components, allowedMentions: NO_PINGS });
  }
}

function revealed(battle: ArenaBattle): InteractionEditReplyOptions {
  return { content: revealWords(battle), components: [], allowedMentions: NO_PINGS };
}

/** A click on a vote button: only the asker's counts; the vote reveals the models. */
export async function vote(ctx: BotContext, interaction: ButtonInteraction, button: ArenaVoteButton): Promise<void> {
  if (interaction.user.id !== button.askerId) {
    await interaction.reply({
      content: voteRefusedWords(button.askerId),
      flags: MessageFlags.Ephemeral,
      allowedMentions: NO_PINGS,
    });
    return;
  }
  // The vote is one quick call, but the 3 s answer window is Discord's, not ours to gamble on.
  await interaction.deferUpdate();
  try {
    const battle = await ctx.gateway.voteBattle({ battleId: button.battleId, winner: button.winner, user: interaction.user.id });
    await interaction.editReply(revealed(battle));
    ctx.logger.info("arena vote recorded", { battle: battle.id, winner: button.winner });
  } catch (error) {
    if (!(error instanceof GatewayCallError) || error.code !== "already_voted") throw error;
    await interaction.followUp({ content: errorToWords(error), flags: MessageFlags.Ephemeral });
    // A double click, or an earlier vote whose reveal never reached Discord: show the vote there is.
    const battle = await ctx.gateway.getBattle(button.battleId, interaction.user.id);
    if (battle.vote) await interaction.editReply(revealed(battle));
  }
}
