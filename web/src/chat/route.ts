/**
 * The open conversation lives in the URL's hash (`#/c/<id>`), so a reload or a bookmark reopens it
 * and the browser's back button goes back to the previous chat.
 */
const PREFIX = "#/c/";

export function conversationIdFromUrl(): string | null {
  const hash = location.hash;
  if (!hash.startsWith(PREFIX)) return null;
  const id = decodeURIComponent(hash.slice(PREFIX.length));
  return /^[A-Za-z0-9_-]{1,80}$/.test(id) ? id : null;
}

/** Puts `id` (or nothing, for a new chat) in the URL; `replace` keeps the history entry. */
export function showConversationInUrl(id: string | null, options: { replace?: boolean } = {}): void {
  const url = id === null ? `${location.pathname}${location.search}` : `${PREFIX}${encodeURIComponent(id)}`;
  if (id === conversationIdFromUrl()) return;
  if (options.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
}
