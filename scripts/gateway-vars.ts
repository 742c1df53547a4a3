/**
 * Gateway variables for `npm start` from the operator's environment: everything in `.dev.vars`
 * (wrangler's own file for local vars and secrets), plus process environment variables the
 * gateway knows by name — wrangler.toml's [vars], its secrets, and any secret a MODELS entry names
 * (e.g. OPENAI_API_KEY for a provider model). Other environment variables (PATH, HOME, …) never
 * reach the Worker. Pure apart from reading the file.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { z } from "zod";

/** Secrets the gateway reads (wrangler.toml's vars are the other known names). */
export const GATEWAY_SECRETS = ["ADMIN_API_KEY", "BACKEND_API_KEY", "POOL_TOKEN", "METRICS_TOKEN"] as const;

/** Parses `.dev.vars` (dotenv syntax: KEY=value, # comments, optional single or double quotes). */
export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new Error(`.dev.vars: cannot read the line '${line.slice(0, 40)}' (expected KEY=value)`);
    let value = match[2]!;
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = quoted[1] === '"' ? quoted[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"') : quoted[2]!;
    vars[match[1]!] = value;
  }
  return vars;
}

const SecretNames = z.array(z.object({ apiKeySecret: z.string().optional() }).loose());

/** Secret names the MODELS var refers to; [] when it is absent or not a JSON list. */
export function secretsNamedByModels(models: string | undefined): string[] {
  if (models === undefined) return [];
  let json: unknown;
  try {
    json = JSON.parse(models);
  } catch {
    return [];
  }
  const parsed = SecretNames.safeParse(json);
  return parsed.success ? parsed.data.flatMap((m) => (m.apiKeySecret ? [m.apiKeySecret] : [])) : [];
}

/**
 * The gateway vars the environment sets: `.dev.vars` first, then known names from `env` (which
 * win, as a shell override should). `knownVars` are wrangler.toml's [vars] names.
 */
export function gatewayVarsFrom(input: { devVars: Record<string, string>; env: Record<string, string | undefined>; knownVars: readonly string[] }): Record<string, string> {
  const vars: Record<string, string> = { ...input.devVars };
  const pick = (name: string): void => {
    const value = input.env[name];
    if (value !== undefined && value !== "") vars[name] = value;
  };
  for (const name of [...input.knownVars, ...GATEWAY_SECRETS]) pick(name);
  for (const name of secretsNamedByModels(vars.MODELS)) pick(name);
  return vars;
}

/** Reads `.dev.vars` at `file` if it exists. */
export async function readDevVars(file: string): Promise<Record<string, string>> {
  return existsSync(file) ? parseDevVars(await readFile(file, "utf8")) : {};
}
