/**
 * Slash commands, dispatched from a map: one file per command. Adding a command means adding its
 * definition (discord/commands.ts), its file, and one entry here.
 */
import { MessageFlags, type ChatInputCommandInteraction } from "discord.js";
import { UNKNOWN_COMMAND_WORDS } from "../../discord/command-words.js";
import { COMMAND_NAMES, type CommandName } from "../../discord/commands.js";
import type { BotContext } from "../context.js";
import { arena } from "./arena.js";
import { chat } from "./chat.js";
import { model } from "./model.js";
import { reset } from "./reset.js";
import { shareData } from "./share-data.js";
import { usage } from "./usage.js";

/** Answers one slash command. */
export type CommandHandler = (ctx: BotContext, interaction: ChatInputCommandInteraction) => Promise<void>;

/** Every command the bot serves, by name; the type makes a defined command without a handler a compile error. */
export const COMMAND_HANDLERS: Readonly<Record<CommandName, CommandHandler>> = {
  [COMMAND_NAMES.chat]: chat,
  [COMMAND_NAMES.reset]: reset,
  [COMMAND_NAMES.model]: model,
  [COMMAND_NAMES.usage]: usage,
  [COMMAND_NAMES.arena]: arena,
  [COMMAND_NAMES.shareData]: shareData,
};

const isCommandName = (name: string): name is CommandName => Object.hasOwn(COMMAND_HANDLERS, name);

/** Handles one slash command. */
export async function handleCommand(ctx: BotContext, interaction: ChatInputCommandInteraction): Promise<void> {
  const name = interaction.commandName;
  if (!isCommandName(name)) {
    await interaction.reply({ content: UNKNOWN_COMMAND_WORDS, flags: MessageFlags.Ephemeral });
    return;
  }
  await COMMAND_HANDLERS[name](ctx, interaction);
}
