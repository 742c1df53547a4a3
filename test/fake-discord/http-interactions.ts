/**
 * Discord's side of HTTP interactions, for the fake: an application key pair that signs each
 * interaction as Discord does (Ed25519 over X-Signature-Timestamp + body), delivery by POST to an
 * Interactions Endpoint URL, and the endpoint's answer applied to the fake as Discord applies it
 * (a deferred answer makes the "thinking…" message that …/messages/@original then edits).
 */
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import type { FakeDiscord, FakeInteraction, SimulatedInteraction } from "./index.js";

/** The application's signing key; `publicKeyHex` is what the developer portal shows as Public Key. */
export interface ApplicationKey {
  publicKeyHex: string;
  sign(timestamp: string, body: string): string;
}

export function newApplicationKey(): ApplicationKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  // An Ed25519 SPKI is a fixed 12-byte header and the 32-byte raw key.
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  return { publicKeyHex: raw.toString("hex"), sign: (timestamp, body) => signWith(privateKey, timestamp, body) };
}

function signWith(key: KeyObject, timestamp: string, body: string): string {
  return sign(null, Buffer.from(timestamp + body), key).toString("hex");
}

/** One delivered interaction: what the endpoint answered, and how long it took. */
export interface Delivered {
  interaction: FakeInteraction;
  status: number;
  response: unknown;
  /** From sending the signed request to the endpoint's complete answer (ms). */
  ackMs: number;
  /** performance.now() when the request was sent. */
  sentAtMs: number;
}

/**
 * A user runs a command (or clicks a button); the fake signs it and POSTs it to `endpointUrl`, and
 * applies the answer (types 4–7) through its own callback route, as Discord would.
 */
export async function deliverInteraction(args: { fake: FakeDiscord; key: ApplicationKey; endpointUrl: string; interaction: SimulatedInteraction }): Promise<Delivered> {
  const { interaction, payload } = args.fake.buildInteraction(args.interaction);
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const sentAtMs = performance.now();
  const res = await fetch(args.endpointUrl, {
    method: "POST",
    headers: { "content-type": "application/json", "x-signature-ed25519": args.key.sign(timestamp, body), "x-signature-timestamp": timestamp },
    body,
  });
  const text = await res.text();
  const ackMs = performance.now() - sentAtMs;
  const response: unknown = text === "" ? null : JSON.parse(text);
  const type = typeof response === "object" && response !== null && "type" in response ? response.type : null;
  if (res.ok && typeof type === "number" && type >= 4) {
    const applied = await fetch(`${args.fake.restApiUrl}/v10/interactions/${interaction.id}/${interaction.token}/callback`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
    });
    if (!applied.ok) throw new Error(`fake discord refused the endpoint's answer: ${applied.status} ${await applied.text()}`);
  }
  return { interaction, status: res.status, response, ackMs, sentAtMs };
}
