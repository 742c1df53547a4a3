/** The open battle lives in the URL's hash (`/arena#/b/<id>`), so a reload shows it again. */
const PREFIX = "#/b/";

export function battleIdFromUrl(): string | null {
  const hash = location.hash;
  if (!hash.startsWith(PREFIX)) return null;
  const id = decodeURIComponent(hash.slice(PREFIX.length));
  return /^[A-Za-z0-9_-]{1,80}$/.test(id) ? id : null;
}

/** Puts `id` (or nothing, for a new battle) in the URL without adding a history entry. */
export function showBattleInUrl(id: string | null): void {
  if (id === battleIdFromUrl()) return;
  history.replaceState(null, "", id === null ? `${location.pathname}${location.search}` : `${PREFIX}${encodeURIComponent(id)}`);
}
