import { describe, expect, it } from "vitest";
import { hexBytes, importPublicKey, SIGNATURE_MAX_AGE_SECONDS, verifyDiscordSignature, type SignatureCheck } from "../../workers/discord/signature.js";
import { newSigningKey, sign } from "./discord-signing.js";

/**
 * Discord's request signature, by table: Ed25519 over X-Signature-Timestamp + the raw body with
 * the application's public key (Web Crypto in workerd), and a timestamp within the allowed age.
 */
describe("verifyDiscordSignature", async () => {
  const key = await newSigningKey();
  const otherKey = await newSigningKey();
  const now = 1_800_000_000;
  const body = '{"type":1}';
  const ts = String(now);
  const good = await sign(key, ts, body);
  const staleTs = String(now - SIGNATURE_MAX_AGE_SECONDS - 1);
  const stale = await sign(key, staleTs, body);
  const futureTs = String(now + SIGNATURE_MAX_AGE_SECONDS + 1);

  const cases: Array<{ name: string; signature: string | null; timestamp: string | null; body: string; verifyWith?: "other"; expected: SignatureCheck }> = [
    { name: "valid", signature: good, timestamp: ts, body, expected: { ok: true } },
    { name: "valid at the edge of the allowed age", signature: await sign(key, String(now - SIGNATURE_MAX_AGE_SECONDS), body), timestamp: String(now - SIGNATURE_MAX_AGE_SECONDS), body, expected: { ok: true } },
    { name: "wrong key", signature: good, timestamp: ts, body, verifyWith: "other", expected: { ok: false, reason: "mismatch" } },
    { name: "altered body", signature: good, timestamp: ts, body: '{"type":2}', expected: { ok: false, reason: "mismatch" } },
    { name: "signature of another timestamp", signature: good, timestamp: String(now - 1), body, expected: { ok: false, reason: "mismatch" } },
    { name: "stale timestamp (validly signed)", signature: stale, timestamp: staleTs, body, expected: { ok: false, reason: "stale" } },
    { name: "timestamp from the future", signature: await sign(key, futureTs, body), timestamp: futureTs, body, expected: { ok: false, reason: "stale" } },
    { name: "missing timestamp", signature: good, timestamp: null, body, expected: { ok: false, reason: "missing" } },
    { name: "missing signature", signature: null, timestamp: ts, body, expected: { ok: false, reason: "missing" } },
    { name: "signature not hex", signature: "zz".repeat(64), timestamp: ts, body, expected: { ok: false, reason: "malformed" } },
    { name: "signature too short", signature: good.slice(0, 126), timestamp: ts, body, expected: { ok: false, reason: "malformed" } },
    { name: "timestamp not a number", signature: good, timestamp: "soon", body, expected: { ok: false, reason: "malformed" } },
  ];

  it.each(cases)("$name", async (c) => {
    const publicKey = await importPublicKey(c.verifyWith === "other" ? otherKey.publicKeyHex : key.publicKeyHex);
    const result = await verifyDiscordSignature({
      publicKey,
      signatureHex: c.signature,
      timestamp: c.timestamp,
      body: new TextEncoder().encode(c.body),
      nowSeconds: now,
    });
    expect(result).toEqual(c.expected);
  });

  it("refuses a public key that is not 32 bytes of hex", async () => {
    await expect(importPublicKey("abcd")).rejects.toThrow(/64 hex characters/);
  });

  it.each([
    ["00ff", [0, 255]],
    ["", null],
    ["0", null],
    ["0g", null],
  ] as const)("hexBytes(%j)", (hex, bytes) => {
    const out = hexBytes(hex);
    expect(out === null ? null : [...out]).toEqual(bytes);
  });
});
