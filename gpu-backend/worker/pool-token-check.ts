/**
 * Asks the gateway whether a pool token is right without joining the pool: `POST /pool/heartbeat`
 * checks the token before it reads the body, and a heartbeat it rejects changes nothing. So an
 * empty body answers 401 for a wrong token and 400 (not a heartbeat) for a right one.
 */
import { z } from "zod";

export type PoolTokenCheck = { kind: "accepted" } | { kind: "refused"; message: string } | { kind: "unreachable"; message: string };

const ErrorEnvelope = z.object({ error: z.object({ message: z.string() }) });
const CHECK_TIMEOUT_MS = 10_000;

export async function checkPoolToken(gatewayUrl: string, poolToken: string): Promise<PoolTokenCheck> {
  let res: Response;
  try {
    res = await fetch(`${gatewayUrl}/pool/heartbeat`, {
      method: "POST",
      headers: { authorization: `Bearer ${poolToken}`, "content-type": "application/json" },
      body: "{}",
      signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : "";
    return { kind: "unreachable", message: `${err instanceof Error ? err.message : String(err)}${cause}` };
  }
  const text = await res.text();
  if (res.status === 400) return { kind: "accepted" };
  let message = text.slice(0, 200);
  try {
    const envelope = ErrorEnvelope.safeParse(JSON.parse(text));
    if (envelope.success) message = envelope.data.error.message;
  } catch {
    // not the gateway's JSON: keep the text
  }
  if (res.status === 401) return { kind: "refused", message: `401 ${message}` };
  return { kind: "unreachable", message: `POST /pool/heartbeat answered ${res.status}, not the gateway's answer to a token check: ${message}` };
}
