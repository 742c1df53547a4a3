/**
 * The web app's cookies: reading a Cookie header and writing Set-Cookie. Both cookies are
 * HttpOnly (the page's script never sees them) and SameSite=Strict (no other site's page sends
 * them); Secure whenever the page is served over https. Pure.
 */

/** A signed-in API key's session (workers/web/sessions.ts). */
export const SESSION_COOKIE = "altiplano_session";
/** An anonymous public-demo visitor (workers/web/visitors.ts). */
export const VISITOR_COOKIE = "altiplano_visitor";

/** The value of cookie `name` in a Cookie header, or null. The first one wins, as browsers send the most specific first. */
export function readCookie(header: string | undefined | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value === "" ? null : value;
  }
  return null;
}

/** A Cookie header without cookie `name` (what the browser will send once that cookie is cleared). */
export function withoutCookie(header: string | undefined | null, name: string): string | undefined {
  if (!header) return undefined;
  return header
    .split(";")
    .filter((part) => part.slice(0, Math.max(0, part.indexOf("="))).trim() !== name)
    .join(";");
}

export interface CookieOptions {
  /** Seconds until the browser drops it; 0 deletes it. */
  maxAgeSeconds: number;
  /** Whether the page is served over https (then the cookie is Secure). */
  secure: boolean;
}

/** A Set-Cookie header value for one of the app's cookies. */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, "Path=/", `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`, "HttpOnly", "SameSite=Strict"];
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

/** A Set-Cookie header value that deletes cookie `name`. */
export function clearCookie(name: string, secure: boolean): string {
  return setCookie(name, "", { maxAgeSeconds: 0, secure });
}
