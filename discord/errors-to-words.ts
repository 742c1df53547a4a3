/**
 * Turns a failure into one sentence a Discord user understands. Pure: the same error always gives
 * the same words, and no stack trace or internal detail ever reaches the channel.
 */
import { GatewayCallError } from "./gateway-error.js";

/** Words for any failure while answering. */
export function errorToWords(error: unknown): string {
  if (!(error instanceof GatewayCallError)) return "Something went wrong on my side while answering. Please try again.";
  const { status, code, type } = error;
  if (status === 0 && code === "connection_lost") return "I lost the connection to the chat service while answering. Please try again.";
  if (status === 0) return "I can't reach the chat service right now. Please try again in a minute.";
  if (status === 429) {
    if (code === "insufficient_quota" || error.shouldRetry === false || type === "insufficient_quota") {
      return "You've used up your allowance for now. Check `/usage` to see when it resets.";
    }
    const seconds = error.retryAfterSeconds;
    return seconds !== null && seconds > 0
      ? `You're sending messages too quickly. Please try again in ${formatSeconds(seconds)}.`
      : "You're sending messages too quickly. Please try again in a little while.";
  }
  if (code === "arena_unavailable") return "The arena needs two models that can answer right now, and it doesn't have them. Please try again in a few minutes.";
  if (status === 503 || code === "no_workers" || code === "overloaded") {
    if (code === "overloaded") return "All the GPUs are busy right now. Please try again in a minute.";
    return "No GPU is available to answer right now. Please try again in a few minutes.";
  }
  // Arena battles (`/arena` and its vote buttons).
  if (code === "already_voted") return "You already voted on this battle; each battle takes one vote.";
  if (code === "battle_not_votable") return "One of the answers in this battle failed, so it can't be voted on. Ask again with `/arena`.";
  if (code === "battle_busy") return "This battle's answers are still being saved. Press your vote again in a moment.";
  if (code === "battle_not_found") return "I can't find this battle any more. Ask again with `/arena`.";
  if (status === 409) return "I'm still answering the previous message here. Send yours again when I'm done.";
  if (status === 413) return "That's too long for me to read in one go. Try a shorter message, or `/reset` to start fresh.";
  if (status === 404) return "I lost track of this conversation. Send your message again, or `/reset` to start fresh.";
  if (status === 401 || status === 403) return "I'm not allowed to use the chat service right now. Please tell the server admins.";
  if (status === 400) return "The chat service couldn't accept that message. Try rephrasing it, or `/reset` to start fresh.";
  return "The model backend failed while answering. Please try again in a moment.";
}

/** "1 s", "45 s", "2 min", "1 h 5 min": short and rounded up so the user never retries too early. */
export function formatSeconds(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 120) return `${s} s`;
  const minutes = Math.ceil(s / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}
