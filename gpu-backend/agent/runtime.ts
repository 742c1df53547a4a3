/**
 * What serves the models, read from the server's `GET /version`. Real vLLM answers
 * `{"version":"0.18.1"}`; the Altiplano simulator answers `{"version":"…","simulator":true}`
 * (gpu-backend/sim/server.ts), so the pool can tell operators it is not a model. Anything else
 * is "not known": the heartbeat leaves `runtime` out and the pool shows `unknown`.
 */
import { WorkerRuntime } from "../../wire/heartbeat.js";

/** The runtime a `/version` body describes, or null when it is not one we recognise. */
export function runtimeFromVersionReply(body: unknown): WorkerRuntime | null {
  if (typeof body !== "object" || body === null) return null;
  const { version, simulator } = body as { version?: unknown; simulator?: unknown };
  if (typeof version !== "string") return null;
  const parsed = WorkerRuntime.safeParse({ kind: simulator === true ? "simulator" : "vllm", version: version.trim() });
  return parsed.success ? parsed.data : null;
}
