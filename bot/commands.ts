/**
 * The slash commands the bot registers at start: /chat, /reset, /model, /usage, /arena, /share-data.
 */
import { SlashCommandBuilder, type RESTPostAPIChatInputApplicationCommandsJSONBody } from "discord.js";

/** Discord allows at most 25 fixed choices per option. */
const MAX_CHOICES = 25;

export const COMMAND_NAMES = { chat: "chat", reset: "reset", model: "model", usage: "usage", arena: "arena", shareData: "share-data" } as const;

/** The command definitions; `models` (from the gateway at start) become the model choices. */
export function buildCommands(models: string[]): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  const choices = models.slice(0, MAX_CHOICES).map((m) => ({ name: m.slice(0, 100), value: m }));
  const chat = new SlashCommandBuilder()
    .setName(COMMAND_NAMES.chat)
    .setDescription("Start a new conversation thread with a prompt")
    .addStringOption((o) => o.setName("prompt").setDescription("What to ask").setRequired(true).setMaxLength(4000))
    .addStringOption((o) => {
      o.setName("model").setDescription("Model for this conversation").setRequired(false);
      return choices.length > 0 ? o.addChoices(...choices) : o;
    });
  const reset = new SlashCommandBuilder()
    .setName(COMMAND_NAMES.reset)
    .setDescription("Forget this thread's or DM's conversation and start fresh");
  const model = new SlashCommandBuilder()
    .setName(COMMAND_NAMES.model)
    .setDescription("Show the models, or switch this thread or DM to another (starts fresh)")
    .addStringOption((o) => {
      o.setName("name").setDescription("Model to switch to").setRequired(false);
      return choices.length > 0 ? o.addChoices(...choices) : o;
    });
  const usage = new SlashCommandBuilder().setName(COMMAND_NAMES.usage).setDescription("Your usage and remaining allowance");
  const arena = new SlashCommandBuilder()
    .setName(COMMAND_NAMES.arena)
    .setDescription("Two anonymous models answer your question; vote for the better one to see which they were")
    .addStringOption((o) => o.setName("question").setDescription("What to ask both models").setRequired(true).setMaxLength(4000));
  const shareData = new SlashCommandBuilder()
    .setName(COMMAND_NAMES.shareData)
    .setDescription("Show or set whether this thread's or DM's conversation may be exported as training data")
    .addStringOption((o) =>
      o
        .setName("consent")
        .setDescription("on: may be exported as training data; off: never exported (leave out to see the current setting)")
        .setRequired(false)
        .addChoices({ name: "on", value: "on" }, { name: "off", value: "off" }),
    );
  return [chat, reset, model, usage, arena, shareData].map((c) => c.toJSON());
}
