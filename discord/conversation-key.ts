/**
 * How a Discord place maps to a gateway conversation. Pure. A thread's conversation is shared by
 * everyone in it (created without an end user); a DM's belongs to that user alone.
 */

/** The gateway-side identity of the conversation for one thread or DM. */
export interface ConversationKey {
  externalId: string;
  /** Set for DMs (private to that user); unset for threads (shared by the key's end users). */
  owner?: string;
}

/** The conversation key of a thread or DM channel. */
export function conversationKeyFor(args: { channelId: string; isDm: boolean; userId: string }): ConversationKey {
  const externalId = `discord:${args.channelId}`;
  return args.isDm ? { externalId, owner: args.userId } : { externalId };
}

/** Discord limits thread names to 100 characters; use the start of the prompt. */
export function threadNameFor(prompt: string, fallback: string): string {
  const oneLine = prompt.replace(/\s+/g, " ").trim();
  if (oneLine === "") return fallback;
  return oneLine.length <= 90 ? oneLine : `${oneLine.slice(0, 89)}…`;
}

/** The user's text without mentions of the bot. */
export function stripBotMention(content: string, botId: string): string {
  return content.replace(new RegExp(`<@!?${botId}>`, "g"), "").trim();
}
