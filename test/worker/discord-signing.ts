/** Signs Discord interaction requests in Worker tests, as Discord does: Ed25519 over timestamp + body. */

export interface SigningKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicKeyHex: string;
}

const toHex = (bytes: ArrayBuffer): string => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

export async function newSigningKey(): Promise<SigningKey> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = (await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer;
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, publicKeyHex: toHex(raw) };
}

export async function sign(key: SigningKey, timestamp: string, body: string): Promise<string> {
  return toHex(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, new TextEncoder().encode(timestamp + body)));
}
