/** API key material: generation, hashing and constant-time comparison. Pure apart from crypto. */

const KEY_PREFIX = "sk-alt-";
const KEY_RANDOM_BYTES = 24;
/** Characters of the plaintext kept for display, enough to tell keys apart, too few to guess. */
export const DISPLAY_PREFIX_CHARS = 11;

/** A new plaintext key: `sk-alt-` + 32 base64url characters (192 random bits). */
export function generateApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(KEY_RANDOM_BYTES));
  return KEY_PREFIX + toBase64Url(bytes);
}

/** Hex SHA-256 of a key; the only form in which keys are stored and compared. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares two equal-length hex digests without an early exit. */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The token of an `Authorization: Bearer <token>` header, or null when there is none. */
export function bearerToken(header: string | undefined | null): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

/**
 * Whether a presented token equals a secret, in time that does not depend on where they differ:
 * both are hashed first, so the comparison runs over equal-length digests.
 */
export async function matchesSecret(presented: string, secret: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256Hex(presented), sha256Hex(secret)]);
  return digestsEqual(a, b);
}

/** Random id with a type prefix, e.g. `key_…`, `conv_…`, `msg_…`. */
export function newId(prefix: string): string {
  return `${prefix}_${toBase64Url(crypto.getRandomValues(new Uint8Array(12)))}`;
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
