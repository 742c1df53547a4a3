/**
 * What the slash commands say, in both Discord modes (the bot process and the Worker's HTTP
 * interactions), so a community that switches modes hears the same words. Pure.
 */

/** Longest part of a /chat prompt quoted back in the channel; the model gets all of it. */
const QUOTE_MAX_CHARS = 1800;

/** /chat's first message: who asked what, quoted so the channel sees it. */
export function quotePromptWords(userId: string, prompt: string): string {
  const quoted = prompt.length > QUOTE_MAX_CHARS ? `${prompt.slice(0, QUOTE_MAX_CHARS)}…` : prompt;
  return `<@${userId}> asked:\n${quoted.replace(/^/gm, "> ")}`;
}

export const UNKNOWN_COMMAND_WORDS = "I don't know that command.";
export const RESTARTING_WORDS = "I'm restarting; try again in a moment.";
export const CANT_SEE_CHANNEL_WORDS = "I can't see this channel.";
export const THREADS_ONLY_IN_TEXT_CHANNELS_WORDS = "I can only start threads in text channels.";

/** /reset outside a thread or DM. */
export const RESET_WHERE_WORDS =
  "Use /reset inside one of my threads or in our DM. In a channel, mention me or use /chat to start a fresh thread.";

/** /reset's answer: whether there was a conversation to forget. */
export function resetWords(hadConversation: boolean): string {
  return hadConversation ? "Done: I've forgotten this conversation. Your next message starts a fresh one." : "There was nothing to forget here yet.";
}

/** /model without a name: the models, marking the one this conversation uses. */
export function modelListWords(models: readonly string[], current: string | null): string {
  const list = models.map((m) => `• \`${m}\`${current === m ? " (this conversation)" : ""}`).join("\n");
  return `Models available:\n${list || "(none right now)"}\n-# Switch with /model name:<model>; in a channel, /chat has a model option.`;
}

/** /model with a name the gateway does not serve. */
export function unknownModelWords(wanted: string, models: readonly string[]): string {
  return `I don't know the model \`${wanted}\`. Available: ${models.map((m) => `\`${m}\``).join(", ") || "none right now"}.`;
}

/** /model with a name, outside a thread or DM. */
export const MODEL_WHERE_WORDS = "Use /model inside one of my threads or in our DM, or start a thread with `/chat model:<model>`.";

/** /model naming the model already in use. */
export function modelAlreadyWords(model: string): string {
  return `This conversation already uses \`${model}\`.`;
}

/** /model after switching; a conversation that existed is replaced by a fresh one. */
export function modelSwitchedWords(model: string, replacedConversation: boolean): string {
  return `Switched to \`${model}\`.${replacedConversation ? " This starts a fresh conversation here." : ""}`;
}
