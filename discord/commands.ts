/**
 * The slash commands both Discord modes serve — /chat, /reset, /model, /usage, /arena, /share-data —
 * as the plain JSON Discord's API takes (`PUT /applications/{id}/commands`). Pure: no discord.js,
 * so the gateway Worker and the registration script read the same definitions as the bot.
 */
import type {
  APIApplicationCommandOptionChoice,
  APIApplicationCommandStringOption,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord-api-types/v10";

/** Discord allows at most 25 fixed choices per option. */
export const MAX_CHOICES = 25;
/** Discord's limit on a choice's name. */
const CHOICE_NAME_MAX_CHARS = 100;
/** Longest prompt or question a command option accepts (Discord's own maximum is 6,000). */
export const PROMPT_MAX_CHARS = 4000;

// discord-api-types' enums are only imported as types (no runtime dependency); these are their values.
const CHAT_INPUT = 1 as ApplicationCommandType.ChatInput;
const STRING = 3 as ApplicationCommandOptionType.String;

export const COMMAND_NAMES = { chat: "chat", reset: "reset", model: "model", usage: "usage", arena: "arena", shareData: "share-data" } as const;

/** One of the command names. */
export type CommandName = (typeof COMMAND_NAMES)[keyof typeof COMMAND_NAMES];

/** One slash command as Discord's API takes it. */
export type CommandDefinition = RESTPostAPIChatInputApplicationCommandsJSONBody;

function stringOption(args: {
  name: string;
  description: string;
  required: boolean;
  maxLength?: number;
  choices?: APIApplicationCommandOptionChoice<string>[];
}): APIApplicationCommandStringOption {
  return {
    type: STRING,
    name: args.name,
    description: args.description,
    required: args.required,
    ...(args.maxLength !== undefined ? { max_length: args.maxLength } : {}),
    ...(args.choices && args.choices.length > 0 ? { choices: args.choices } : {}),
  };
}

/** The model choices for `models` (the gateway's list): the first 25, names cut to Discord's 100 characters. */
export function modelChoices(models: readonly string[]): APIApplicationCommandOptionChoice<string>[] {
  return models.slice(0, MAX_CHOICES).map((m) => ({ name: m.slice(0, CHOICE_NAME_MAX_CHARS), value: m }));
}

/** The command definitions; `models` (from the gateway's `/v1/models`) become the model choices. */
export function buildCommands(models: readonly string[]): CommandDefinition[] {
  const choices = modelChoices(models);
  const command = (name: CommandName, description: string, options: APIApplicationCommandStringOption[] = []): CommandDefinition => ({
    type: CHAT_INPUT,
    name,
    description,
    ...(options.length > 0 ? { options } : {}),
  });
  return [
    command(COMMAND_NAMES.chat, "Start a new conversation thread with a prompt", [
      stringOption({ name: "prompt", description: "What to ask", required: true, maxLength: PROMPT_MAX_CHARS }),
      stringOption({ name: "model", description: "Model for this conversation", required: false, choices }),
    ]),
    command(COMMAND_NAMES.reset, "Forget this thread's or DM's conversation and start fresh"),
    command(COMMAND_NAMES.model, "Show the models, or switch this thread or DM to another (starts fresh)", [
      stringOption({ name: "name", description: "Model to switch to", required: false, choices }),
    ]),
    command(COMMAND_NAMES.usage, "Your usage and remaining allowance"),
    command(COMMAND_NAMES.arena, "Two anonymous models answer your question; vote for the better one to see which they were", [
      stringOption({ name: "question", description: "What to ask both models", required: true, maxLength: PROMPT_MAX_CHARS }),
    ]),
    command(COMMAND_NAMES.shareData, "Show or set whether this thread's or DM's conversation may be exported as training data", [
      stringOption({
        name: "consent",
        description: "on: may be exported as training data; off: never exported (leave out to see the current setting)",
        required: false,
        choices: [
          { name: "on", value: "on" },
          { name: "off", value: "off" },
        ],
      }),
    ]),
  ];
}
