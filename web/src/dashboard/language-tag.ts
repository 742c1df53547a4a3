/**
 * uPlot builds `new Intl.NumberFormat(navigator.language)` as it loads. A browser started under
 * a POSIX locale reports a tag ICU rejects ("en-US@posix"), and that RangeError would stop the
 * whole page before it draws anything. `usableLanguageTag` finds the tag to use instead; the
 * guard applies it, and must be imported before uPlot.
 */

/** The tag itself when `accepts` it, else without its `@…`/`.…` suffix, else "en-US". */
export function usableLanguageTag(tag: string, accepts: (tag: string) => boolean): string {
  if (tag !== "" && accepts(tag)) return tag;
  const trimmed = tag.split(/[@.]/)[0]!.replace(/_/g, "-");
  return trimmed !== "" && accepts(trimmed) ? trimmed : "en-US";
}

export function acceptedByIntl(tag: string): boolean {
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}
