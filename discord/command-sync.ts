/**
 * Whether the commands registered with Discord are the ones this version serves. Pure: compares
 * what `GET /applications/{id}/commands` returned with the definitions, on the fields a user sees
 * (names, descriptions, options, choices), ignoring what Discord adds (ids, versions, defaults).
 */
import type { CommandDefinition } from "./commands.js";

/** What differs between the registered commands and the definitions. */
export interface CommandDrift {
  /** Defined here, not registered. */
  missing: string[];
  /** Registered under the same name, but different. */
  changed: string[];
  /** Registered, not defined here (left over from an older version). */
  extra: string[];
}

/** A registered command as read back from Discord: only the fields compared, loosely typed. */
export interface RegisteredCommand {
  name: string;
  type?: number;
  description?: string;
  options?: readonly RegisteredOption[];
}

interface RegisteredOption {
  type: number;
  name: string;
  description?: string;
  required?: boolean;
  min_length?: number;
  max_length?: number;
  choices?: readonly { name: string; value: string | number }[];
  options?: readonly RegisteredOption[];
}

/** The user-visible shape of a command, with Discord's defaults filled in, as a comparable string. */
function canonical(command: RegisteredCommand | CommandDefinition): string {
  const option = (o: RegisteredOption): unknown => ({
    type: o.type,
    name: o.name,
    description: o.description ?? "",
    required: o.required ?? false,
    min_length: o.min_length ?? null,
    max_length: o.max_length ?? null,
    choices: (o.choices ?? []).map((c) => [c.name, c.value]),
    options: (o.options ?? []).map(option),
  });
  const options = (command.options ?? []) as readonly RegisteredOption[];
  return JSON.stringify({ type: command.type ?? 1, name: command.name, description: command.description ?? "", options: options.map(option) });
}

/** What differs between `registered` (from Discord) and `defined` (from buildCommands). */
export function commandDrift(args: { defined: readonly CommandDefinition[]; registered: readonly RegisteredCommand[] }): CommandDrift {
  const registeredByName = new Map(args.registered.map((c) => [c.name, c]));
  const definedNames = new Set(args.defined.map((c) => c.name));
  const missing: string[] = [];
  const changed: string[] = [];
  for (const d of args.defined) {
    const r = registeredByName.get(d.name);
    if (!r) missing.push(d.name);
    else if (canonical(r) !== canonical(d)) changed.push(d.name);
  }
  const extra = args.registered.filter((r) => !definedNames.has(r.name)).map((r) => r.name);
  return { missing, changed, extra };
}

/** True when nothing differs. */
export function isInSync(drift: CommandDrift): boolean {
  return drift.missing.length === 0 && drift.changed.length === 0 && drift.extra.length === 0;
}

/** One line for the log: in sync, or what differs and the command that fixes it. */
export function driftWords(drift: CommandDrift, scope: string): string {
  if (isInSync(drift)) return `slash commands registered ${scope} match this version`;
  const parts = [
    drift.missing.length > 0 ? `missing: /${drift.missing.join(", /")}` : null,
    drift.changed.length > 0 ? `changed: /${drift.changed.join(", /")}` : null,
    drift.extra.length > 0 ? `no longer served: /${drift.extra.join(", /")}` : null,
  ].filter((p): p is string => p !== null);
  return `slash commands registered ${scope} differ from this version (${parts.join("; ")}); run \`npm run discord:commands\` to register them`;
}
