/**
 * The benchmarks' one way to read options: `--kebab-case value` (or `--name=value`, or a bare
 * `--flag` for booleans) over `PREFIX_UPPER_SNAKE` environment variables, keyed by the fields of a
 * zod object schema. Returns raw strings; the caller's schema coerces and validates them.
 */
import type { z } from "zod";

export const kebabCase = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const envName = (prefix: string, camel: string): string => `${prefix}_${camel.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/** Raw option values by field name: flags win over the environment. */
export function readBenchOptions(options: {
  schema: z.ZodObject;
  envPrefix: string;
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Fields that may be given as a bare flag, meaning "true". */
  booleanFlags?: readonly string[];
}): { fromEnv: Record<string, string>; fromFlags: Record<string, string> } {
  const fields = Object.keys(options.schema.shape);
  const fromEnv: Record<string, string> = {};
  for (const f of fields) {
    const v = options.env[envName(options.envPrefix, f)];
    if (v !== undefined && v !== "") fromEnv[f] = v;
  }
  const byFlag = new Map(fields.map((f) => [kebabCase(f), f]));
  const fromFlags: Record<string, string> = {};
  for (let i = 0; i < options.argv.length; i++) {
    const arg = options.argv[i]!;
    if (!arg.startsWith("--")) throw new Error(`unexpected argument "${arg}" (flags look like --name value)`);
    const [name, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
    const field = byFlag.get(name);
    if (field === undefined) throw new Error(`unknown flag --${name}; known: ${[...byFlag.keys()].map((k) => `--${k}`).join(" ")}`);
    if (inline !== undefined) fromFlags[field] = inline;
    else if (options.booleanFlags?.includes(field)) fromFlags[field] = "true";
    else {
      const value = options.argv[++i];
      if (value === undefined) throw new Error(`flag --${name} needs a value`);
      fromFlags[field] = value;
    }
  }
  return { fromEnv, fromFlags };
}

/** Formats zod issues as one line per flag. */
export function describeOptionIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `  --${kebabCase(String(i.path[0] ?? "(config)"))}: ${i.message}`).join("\n");
}
