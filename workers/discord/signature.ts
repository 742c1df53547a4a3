/**
 * Discord's request signature: Ed25519 over `X-Signature-Timestamp` + the raw body, checked with
 * the application's public key through Web Crypto. A timestamp older (or further ahead) than
 * SIGNATURE_MAX_AGE_SECONDS is refused too, so a captured request cannot be replayed later.
 * No I/O: the clock comes in as `nowSeconds`.
 */

/** How far a request's timestamp may be from our clock. Discord sends at once; five minutes allows for clock skew. */
export const SIGNATURE_MAX_AGE_SECONDS = 300;

export type SignatureCheck = { ok: true } | { ok: false; reason: "missing" | "malformed" | "stale" | "mismatch" };

const HEX_RE = /^(?:[0-9a-fA-F]{2})+$/;

/** Bytes of a hex string, or null if it is not hex of an even length. */
export function hexBytes(hex: string): Uint8Array<ArrayBuffer> | null {
  if (!HEX_RE.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Imported keys by hex, per isolate: importKey costs more than a verify. */
const importedKeys = new Map<string, Promise<CryptoKey>>();

/** The public key (64 hex characters, as the developer portal shows it) as a Web Crypto key. */
export function importPublicKey(publicKeyHex: string): Promise<CryptoKey> {
  let key = importedKeys.get(publicKeyHex);
  if (!key) {
    const raw = hexBytes(publicKeyHex);
    if (raw === null || raw.length !== 32) return Promise.reject(new Error("DISCORD_PUBLIC_KEY must be 64 hex characters"));
    key = crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    importedKeys.set(publicKeyHex, key);
  }
  return key;
}

/** Whether `signatureHex` is the key's signature of `timestamp + body`, sent within the allowed age. */
export async function verifyDiscordSignature(args: {
  publicKey: CryptoKey;
  signatureHex: string | null;
  timestamp: string | null;
  body: Uint8Array;
  nowSeconds: number;
  maxAgeSeconds?: number;
}): Promise<SignatureCheck> {
  if (!args.signatureHex || !args.timestamp) return { ok: false, reason: "missing" };
  const signature = hexBytes(args.signatureHex);
  if (signature === null || signature.length !== 64 || !/^\d{1,12}$/.test(args.timestamp)) return { ok: false, reason: "malformed" };
  const sentAt = Number(args.timestamp);
  if (Math.abs(args.nowSeconds - sentAt) > (args.maxAgeSeconds ?? SIGNATURE_MAX_AGE_SECONDS)) return { ok: false, reason: "stale" };
  const prefix = new TextEncoder().encode(args.timestamp);
  const signed = new Uint8Array(prefix.length + args.body.length);
  signed.set(prefix, 0);
  signed.set(args.body, prefix.length);
  const valid = await crypto.subtle.verify({ name: "Ed25519" }, args.publicKey, signature, signed);
  return valid ? { ok: true } : { ok: false, reason: "mismatch" };
}
