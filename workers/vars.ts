/**
 * Reading wrangler `[vars]`: every configuration module (gateway, limits, pool) parses its vars
 * with zod, fails fast naming each bad var, and parses once per env object.
 */
import { z } from "zod";

/** An integer var (text from wrangler, a number in tests); absent or blank → `fallback`. */
export const intVar = (fallback: number, min = 0) =>
  z.union([z.string(), z.number()]).optional().transform((v, ctx): number => {
    if (v === undefined || (typeof v === "string" && v.trim() === "")) return fallback;
    const n = typeof v === "number" ? v : Number(v);
    if (!Number.isInteger(n) || n < min) {
      ctx.addIssue({ code: "custom", message: `must be an integer >= ${min}, not ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

/** The parsed vars, or an Error like "Invalid pool configuration: POOL_X: must be …; POOL_Y: …". */
export function parseVars<S extends z.ZodType>(schema: S, vars: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(vars);
  if (parsed.success) return parsed.data;
  const detail = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
  throw new Error(`Invalid ${what}: ${detail}`);
}

/** `build` memoized per env object: an isolate parses its vars once, a test's new env again. */
export function oncePerEnv<E extends object, C>(build: (env: E) => C): (env: E) => C {
  let cached: { source: E; config: C } | null = null;
  return (env) => {
    if (cached?.source === env) return cached.config;
    const config = build(env);
    cached = { source: env, config };
    return config;
  };
}
