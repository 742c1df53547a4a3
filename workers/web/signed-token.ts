/**
 * Cookie values signed with the Worker's SESSION_SECRET (HMAC-SHA-256, Web Crypto). A value is
 * `<payload>.<signature>`: the payload is plain text the gateway wrote (ids and a time, never a
 * key), the signature proves it did. Pure apart from crypto.
 */

const encoder = new TextEncoder();

/** HMAC keys imported once per secret per isolate: importKey costs more than the HMAC itself. */
const importedKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = importedKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    importedKeys.set(secret, key);
  }
  return key;
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * Signs `payload` for `purpose`: the purpose is part of what is signed, so a value signed as one
 * kind of cookie is never accepted as another.
 */
export async function signValue(secret: string, purpose: string, payload: string): Promise<string> {
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`${purpose}\n${payload}`));
  return `${payload}.${toBase64Url(new Uint8Array(signature))}`;
}

/** The payload of a value `signValue(secret, purpose, …)` produced, or null for anything else. */
export async function verifyValue(secret: string, purpose: string, value: string): Promise<string | null> {
  const dot = value.lastIndexOf(".");
  if (dot <= 0) return null;
  const payload = value.slice(0, dot);
  const signature = fromBase64Url(value.slice(dot + 1));
  if (!signature || signature.length !== 32) return null;
  // verify() compares in constant time.
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, encoder.encode(`${purpose}\n${payload}`));
  return ok ? payload : null;
}

/** A random id of `bytes` random bytes, base64url. */
export function randomToken(bytes: number): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}
