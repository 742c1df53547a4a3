/**
 * The web app's settings, from wrangler vars and secrets: the secret that signs its cookies, how
 * long a signed-in session lasts, and the public demo (off unless PUBLIC_DEMO_KEY_ID names a key).
 */
import { z } from "zod";
import type { Env } from "../env.js";
import { intVar, oncePerEnv, parseVars } from "../vars.js";

const WebConfigSchema = z.object({
  /** Signs the session and visitor cookies (secret). Without it the page cannot sign anyone in. */
  SESSION_SECRET: z.string().optional().transform((s) => (s === undefined || s.trim() === "" ? null : s)),
  /** How long a session made from an API key lasts (hours). */
  WEB_SESSION_HOURS: intVar(168, 1),
  /** How long an anonymous demo visitor keeps its identity, and so its chats (days). */
  PUBLIC_DEMO_VISITOR_DAYS: intVar(30, 1),
  /**
   * Public demo mode: the id of a bot-role key whose end users anonymous visitors become. Empty =
   * off (the default).
   */
  PUBLIC_DEMO_KEY_ID: z.string().optional().transform((s) => (s === undefined || s.trim() === "" ? null : s.trim())),
});

export interface WebConfig {
  sessionSecret: string | null;
  sessionTtlMs: number;
  visitorTtlMs: number;
  demoKeyId: string | null;
}

export const getWebConfig = oncePerEnv((env: Env): WebConfig => {
  const v = parseVars(WebConfigSchema, env, "web configuration");
  return {
    sessionSecret: v.SESSION_SECRET,
    sessionTtlMs: v.WEB_SESSION_HOURS * 3_600_000,
    visitorTtlMs: v.PUBLIC_DEMO_VISITOR_DAYS * 86_400_000,
    demoKeyId: v.PUBLIC_DEMO_KEY_ID,
  };
});
