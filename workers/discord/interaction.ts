/**
 * The parts of a Discord interaction the gateway reads (validated at the edge: an unsigned or
 * malformed body never reaches a command), and the job a command becomes. Pure.
 */
import { z } from "zod";
import type { AccessContext } from "../../discord/access.js";

/** Interaction types (discord-api-types' InteractionType values). */
export const INTERACTION = { ping: 1, command: 2, component: 3 } as const;
/** Response types (InteractionResponseType values). */
export const RESPONSE = { pong: 1, message: 4, deferredMessage: 5, updateMessage: 7 } as const;
/** Message flag: only the member who ran the command sees it. */
export const EPHEMERAL = 64;

const Snowflake = z.string().regex(/^\d{1,20}$/);
const UserRef = z.looseObject({ id: Snowflake });
const CommandOption = z.looseObject({ name: z.string(), value: z.unknown().optional() });

export const InteractionSchema = z.looseObject({
  type: z.number().int(),
  id: Snowflake.optional(),
  application_id: Snowflake.optional(),
  token: z.string().min(1).max(1000).optional(),
  guild_id: Snowflake.optional(),
  channel_id: Snowflake.optional(),
  channel: z.looseObject({ id: Snowflake, type: z.number().int(), parent_id: Snowflake.nullish() }).optional(),
  member: z.looseObject({ user: UserRef, roles: z.array(Snowflake).optional(), permissions: z.string().regex(/^\d{1,30}$/).optional() }).optional(),
  user: UserRef.optional(),
  data: z.looseObject({ name: z.string().optional(), options: z.array(CommandOption).optional(), custom_id: z.string().optional() }).optional(),
  message: z.looseObject({ id: Snowflake }).optional(),
});
export type Interaction = z.infer<typeof InteractionSchema>;

/** Channel types that are a DM (1) or group DM (3), and the three thread types. */
const DM_TYPES = new Set([1, 3]);
const THREAD_TYPES = new Set([10, 11, 12]);

/** What a command asks for, with its options read. */
export const JobCommand = z.discriminatedUnion("name", [
  z.object({ name: z.literal("chat"), prompt: z.string(), model: z.string().nullable() }),
  z.object({ name: z.literal("reset") }),
  z.object({ name: z.literal("model"), wanted: z.string().nullable() }),
  z.object({ name: z.literal("usage") }),
  z.object({ name: z.literal("arena"), question: z.string() }),
  /** `consent`: null to show the state; `hasManageGuild` from the member's permissions in the interaction. */
  z.object({ name: z.literal("share-data"), consent: z.boolean().nullable(), hasManageGuild: z.boolean() }),
]);
export type JobCommand = z.infer<typeof JobCommand>;

/** A deferred command, as the Durable Object stores it until it has run. */
export const InteractionJob = z.object({
  interactionId: Snowflake,
  token: z.string().min(1),
  /** When the interaction arrived: its token lives 15 minutes from then. */
  receivedAtMs: z.number(),
  userId: Snowflake,
  channelId: Snowflake,
  /** "dm", "thread", or "channel" (a guild channel where /chat starts a fresh conversation). */
  place: z.enum(["dm", "thread", "channel"]),
  command: JobCommand,
});
export type InteractionJob = z.infer<typeof InteractionJob>;

/** Where an interaction came from, for the access rules: a thread counts as its parent channel too. */
export function accessContextOf(i: Interaction): AccessContext {
  const channelId = i.channel?.id ?? i.channel_id;
  const parentId = i.channel?.parent_id;
  return {
    guildId: i.guild_id ?? null,
    channelIds: [channelId, parentId].filter((id): id is string => typeof id === "string"),
    roleIds: i.member?.roles ?? [],
  };
}

/** The member's user id, wherever the interaction carries it (member in guilds, user in DMs). */
export function userIdOf(i: Interaction): string | null {
  return i.member?.user.id ?? i.user?.id ?? null;
}

export function placeOf(i: Interaction): InteractionJob["place"] {
  const type = i.channel?.type;
  if ((type !== undefined && DM_TYPES.has(type)) || (type === undefined && i.guild_id === undefined)) return "dm";
  if (type !== undefined && THREAD_TYPES.has(type)) return "thread";
  return "channel";
}

function option(i: Interaction, name: string): string | null {
  const value = i.data?.options?.find((o) => o.name === name)?.value;
  return typeof value === "string" ? value : null;
}

/** The command a slash-command interaction asks for, or null for one this mode does not serve. */
export function commandOf(i: Interaction): JobCommand | null {
  switch (i.data?.name) {
    case "chat": {
      const prompt = option(i, "prompt");
      return prompt === null ? null : { name: "chat", prompt, model: option(i, "model") };
    }
    case "reset":
      return { name: "reset" };
    case "model":
      return { name: "model", wanted: option(i, "name") };
    case "usage":
      return { name: "usage" };
    case "arena": {
      const question = option(i, "question");
      return question === null ? null : { name: "arena", question };
    }
    case "share-data": {
      const consent = option(i, "consent");
      return { name: "share-data", consent: consent === null ? null : consent === "on", hasManageGuild: hasManageGuild(i) };
    }
    default:
      return null;
  }
}

/** Discord's Administrator and Manage Server permission bits (Administrator implies every permission). */
const ADMINISTRATOR = 1n << 3n;
const MANAGE_GUILD = 1n << 5n;

/** Whether the member has Manage Server here (Discord sends the member's permissions with each interaction). */
export function hasManageGuild(i: Interaction): boolean {
  const permissions = i.member?.permissions;
  return permissions !== undefined && (BigInt(permissions) & (ADMINISTRATOR | MANAGE_GUILD)) !== 0n;
}

/** Commands whose answer only the member sees, as in the bot process. */
export function isEphemeral(command: JobCommand): boolean {
  return command.name === "reset" || command.name === "model" || command.name === "usage" || command.name === "share-data";
}
