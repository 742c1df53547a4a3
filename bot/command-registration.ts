/**
 * Reading and writing the application's slash commands through Discord's REST API. Writing is the
 * registration script's job (`npm run discord:commands`); the bot only reads them at start and
 * says whether they match (Discord rate-limits command writes, so a crash loop must not write).
 */
import { Routes, type REST } from "discord.js";
import { z } from "zod";
import { commandDrift, type CommandDrift, type RegisteredCommand } from "../discord/command-sync.js";
import type { CommandDefinition } from "../discord/commands.js";

/** Where commands live: globally (every server and DMs) or in one guild (for development). */
export interface CommandScope {
  applicationId: string;
  guildId?: string;
}

const OptionSchema: z.ZodType<NonNullable<RegisteredCommand["options"]>[number]> = z.lazy(() =>
  z.looseObject({
    type: z.number(),
    name: z.string(),
    description: z.string().optional(),
    required: z.boolean().optional(),
    min_length: z.number().optional(),
    max_length: z.number().optional(),
    choices: z.array(z.looseObject({ name: z.string(), value: z.union([z.string(), z.number()]) })).optional(),
    options: z.array(OptionSchema).optional(),
  }),
);
const RegisteredCommandsSchema = z.array(
  z.looseObject({ name: z.string(), type: z.number().optional(), description: z.string().optional(), options: z.array(OptionSchema).optional() }),
);

/** "globally" or "in guild 123", for logs. */
export function scopeWords(scope: CommandScope): string {
  return scope.guildId ? `in guild ${scope.guildId}` : "globally";
}

function route(scope: CommandScope): `/${string}` {
  return scope.guildId ? Routes.applicationGuildCommands(scope.applicationId, scope.guildId) : Routes.applicationCommands(scope.applicationId);
}

/** Replaces every command in `scope` with `commands` (one bulk overwrite); returns how many Discord now holds. */
export async function putCommands(rest: REST, scope: CommandScope, commands: readonly CommandDefinition[]): Promise<number> {
  const stored = RegisteredCommandsSchema.parse(await rest.put(route(scope), { body: commands }));
  return stored.length;
}

/** The commands registered in `scope`, as Discord returns them. */
export async function fetchRegisteredCommands(rest: REST, scope: CommandScope): Promise<RegisteredCommand[]> {
  return RegisteredCommandsSchema.parse(await rest.get(route(scope)));
}

/** What differs between the commands registered in `scope` and `defined`. */
export async function checkRegisteredCommands(args: { rest: REST; scope: CommandScope; defined: readonly CommandDefinition[] }): Promise<CommandDrift> {
  const registered = await fetchRegisteredCommands(args.rest, args.scope);
  return commandDrift({ defined: args.defined, registered });
}
