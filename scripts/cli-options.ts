/**
 * The Node command lines' one way to read options (`npm run eval`, `npm run export`): a table
 * gives each flag its environment variable, default and help line, so `--help` lists every option
 * and nothing is parsed that is not documented. Flags win over the environment, which wins over
 * the defaults; a zod schema then checks and converts, and every bad option is named at once.
 */
import { parseArgs } from "node:util";
import type { z } from "zod";

export interface OptionSpec {
  flag: string;
  /** Environment variable; "" for none. */
  env: string;
  help: string;
  default?: string;
  /** A bare flag meaning true. */
  boolean?: true;
}

export class OptionsError extends Error {}

export function helpText(o: { intro: readonly string[]; usage: string; specs: Readonly<Record<string, OptionSpec>> }): string {
  const rows = Object.values(o.specs).map((s) => {
    const left = `  --${s.flag}${s.boolean ? "" : " <value>"}`;
    const extra = [s.default !== undefined ? `default ${s.default}` : "", s.env ? `env ${s.env}` : ""].filter(Boolean).join("; ");
    return `${left.padEnd(30)} ${s.help}${extra ? `\n${"".padEnd(31)}(${extra})` : ""}`;
  });
  return [...o.intro, "", `usage: ${o.usage}`, "", "options:", ...rows, ""].join("\n");
}

/**
 * The options as `schema` outputs them, or "help" when --help was given. `specs` must have a
 * `help` entry; every other key is a field of the schema.
 */
export function parseCliOptions<S extends z.ZodType>(o: {
  specs: Readonly<Record<string, OptionSpec>>;
  schema: S;
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
}): z.output<S> | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...o.argv],
      options: Object.fromEntries(Object.values(o.specs).map((s) => [s.flag, { type: s.boolean ? "boolean" : "string" }])) as Record<string, { type: "string" | "boolean" }>,
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new OptionsError(`${err instanceof Error ? err.message : String(err)} (see --help)`);
  }
  if (parsed.values.help) return "help";
  const raw: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(o.specs)) {
    if (key === "help") continue;
    const fromFlag = parsed.values[spec.flag];
    const fromEnv = spec.env ? o.env[spec.env] : undefined;
    const value = fromFlag !== undefined ? String(fromFlag) : fromEnv !== undefined && fromEnv !== "" ? fromEnv : spec.default;
    if (value !== undefined) raw[key] = value;
  }
  const result = o.schema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const spec = o.specs[String(issue.path[0])];
      return `  --${spec?.flag ?? String(issue.path[0])}${spec?.env ? ` / ${spec.env}` : ""}: ${issue.message}`;
    });
    throw new OptionsError(`invalid options:\n${lines.join("\n")}\n(see --help)`);
  }
  return result.data;
}
