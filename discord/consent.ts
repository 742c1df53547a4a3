/**
 * Who may decide whether a thread's or DM's conversation may be exported as training data, and
 * the words `/share-data` answers with. Pure.
 *
 * The rule: in a DM, the user (the conversation is theirs alone). In a thread, the member who
 * started it — the author of the message it was started from, or for a `/chat` thread the member
 * who ran `/chat` — or a member with the Manage Server permission. Nobody else: a thread is
 * shared, and one member's consent must not export what others wrote without the starter's or a
 * moderator's say.
 */

export interface ConsentActor {
  isDm: boolean;
  userId: string;
  /** The thread's starter as Discord shows it, or null if unknown (its first message was deleted). */
  ownerId: string | null;
  /** The member has Manage Server in this guild. */
  hasManageGuild: boolean;
}

/** Whether `userId` may give or withdraw consent for this place's conversation. */
export function mayConsent(actor: ConsentActor): boolean {
  if (actor.isDm) return true;
  if (actor.hasManageGuild) return true;
  return actor.ownerId !== null && actor.ownerId === actor.userId;
}

/**
 * The member who started a bot thread, from the message the thread was started from: its author
 * if that was a person (a mention), else the member whose slash command the bot answered (`/chat`).
 */
export function threadStarterId(starter: { authorId: string; authorIsBot: boolean; interactionUserId: string | null } | null): string | null {
  if (!starter) return null;
  if (!starter.authorIsBot) return starter.authorId;
  return starter.interactionUserId;
}

const place = (isDm: boolean): string => (isDm ? "This DM conversation" : "This thread");

/** The answer after a change (or a repeat of the current state). */
export function consentChangedWords(args: { isDm: boolean; consent: boolean; changed: boolean }): string {
  const already = args.changed ? "" : " (it already was)";
  return args.consent
    ? `${place(args.isDm)} may now be exported as training data${already}. Withdraw it any time with \`/share-data consent:off\`.`
    : `${place(args.isDm)} will not be exported as training data${already}; it is left out of every later export. \`/share-data consent:on\` allows it again.`;
}

/** `/share-data` without an option: the current state and who may change it. */
export function consentStateWords(args: { isDm: boolean; consent: boolean; ownerId: string | null }): string {
  const state = args.consent ? "may be exported as training data" : "is not shared for training";
  return `${place(args.isDm)} ${state}. ${args.isDm ? "Change it with `/share-data consent:on` or `consent:off`." : `${capitalize(whoMayWords(args.ownerId))} can change it with \`/share-data consent:on|off\`.`}`;
}

/** The refusal for a member who may not decide. */
export function consentRefusedWords(ownerId: string | null): string {
  return `Only ${whoMayWords(ownerId)} can decide whether this thread is shared for training.`;
}

function whoMayWords(ownerId: string | null): string {
  return ownerId ? `<@${ownerId}> (who started this thread) or a member with Manage Server` : "a member with Manage Server (I can't tell who started this thread)";
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Where the command works, for anywhere else. */
export const CONSENT_WHERE_WORDS =
  "Use /share-data inside one of my threads or in our DM: it decides whether that conversation may be exported as training data.";

/** A thread or DM with no conversation yet. */
export const CONSENT_NOTHING_YET_WORDS =
  "There's no conversation here yet. Send a message first, then use /share-data; until then a new conversation follows this deployment's default.";
