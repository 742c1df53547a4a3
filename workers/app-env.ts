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
  /**
   * How the caller signed in when not by a Bearer key: a web session of a key, or an anonymous
   * public-demo visitor (workers/web/). Cookie callers must send state changes from the page's origin.
   */
  via?: "session" | "visitor";
  /** A public-demo visitor's end-user id: fixed by its cookie, never taken from a request's `user`. */
  endUser?: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: { caller: Caller; requestId: string };
}
