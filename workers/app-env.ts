/** The Hono environment every gateway route shares: bindings plus per-request variables. */
import type { Env } from "./env.js";

export type Role = "admin" | "user" | "bot";

/** Who is calling, set by the authenticate middleware. */
export interface Caller {
  keyId: string;
  name: string;
  role: Role;
  /** Per-key limit overrides as stored (JSON text), null for the configured defaults. */
  limits: string | null;
}

export interface AppEnv {
  Bindings: Env;
  Variables: { caller: Caller; requestId: string };
}
