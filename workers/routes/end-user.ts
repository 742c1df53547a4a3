/** The end-user scope of a request. */
import type { Caller } from "../app-env.js";

/**
 * Only bot keys act for end users (e.g. Discord members): their `user` field scopes
 * conversations and limits. For other keys `user` is accepted, as OpenAI does, but is only a
 * label: it cannot reach another end user's data. A public-demo visitor is the end user its cookie
 * names, whatever `user` says.
 */
export function endUserOf(caller: Caller, user: string | undefined | null): string {
  if (caller.endUser !== undefined) return caller.endUser;
  return caller.role === "bot" ? (user ?? "") : "";
}
