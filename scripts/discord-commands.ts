/**
 * Registers the application's slash commands with Discord — one bulk overwrite
 * (`PUT /applications/{id}/commands`, or a guild's) — for both Discord modes: the bot process and
 * the gateway Worker's HTTP interactions serve the same commands (discord/commands.ts).
 *
 *   npm run discord:commands                 register globally (or in DISCORD_DEV_GUILD_ID if set)
 *   npm run discord:commands -- --guild ID   register in one guild (instant; for development)
 *   npm run discord:commands -- --global     register globally even if DISCORD_DEV_GUILD_ID is set
 *   npm run discord:commands -- --check      only compare what is registered; exit 1 if it differs
 *
 * Environment: DISCORD_TOKEN, DISCORD_APPLICATION_ID (required); DISCORD_DEV_GUILD_ID;
 * DISCORD_REST_API (a REST base other than discord.com's, …/api); ALTIPLANO_URL and
 * ALTIPLANO_API_KEY to offer the gateway's models (`/v1/models`) as choices of /chat and /model.
 */
import { pathToFileURL } from "node:url";
import { REST } from "discord.js";
import { z } from "zod";
import { checkRegisteredCommands, putCommands, scopeWords, type CommandScope } from "../bot/command-registration.js";
import { GatewayClient } from "../bot/gateway-client.js";
import { driftWords, isInSync } from "../discord/command-sync.js";
import { buildCommands } from "../discord/commands.js";

const USAGE = `usage: npm run discord:commands -- [--guild ID | --global] [--check]

  --guild ID   register in this guild only (shows at once; for development)
  --global     register globally, even if DISCORD_DEV_GUILD_ID is set
  --check      only compare the registered commands with this version's; exit 1 if they differ

environment: DISCORD_TOKEN, DISCORD_APPLICATION_ID (required); DISCORD_DEV_GUILD_ID;
DISCORD_REST_API; ALTIPLANO_URL + ALTIPLANO_API_KEY (the gateway's models become choices)
`;

const snowflake = z.string().regex(/^\d{1,25}$/, "must be a numeric Discord id");
const EnvSchema = z.object({
  DISCORD_TOKEN: z.string({ error: "is required (the bot token from the Discord developer portal)" }).min(1, "must not be empty"),
  DISCORD_APPLICATION_ID: z.string({ error: "is required (the application's numeric id)" }).pipe(snowflake),
  DISCORD_DEV_GUILD_ID: snowflake.optional(),
  DISCORD_REST_API: z.url().optional(),
  ALTIPLANO_URL: z.url().optional(),
  ALTIPLANO_API_KEY: z.string().min(1).optional(),
});

/** What the script was asked to do. */
interface Options {
  token: string;
  scope: CommandScope;
  restApi?: string;
  gateway?: { url: string; apiKey: string };
  checkOnly: boolean;
}

function parseOptions(argv: readonly string[], env: Record<string, string | undefined>): Options {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`configuration is invalid:\n${lines.join("\n")}\n\n${USAGE}`);
  }
  const e = parsed.data;
  let guildId = e.DISCORD_DEV_GUILD_ID;
  let checkOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--check") checkOnly = true;
    else if (arg === "--global") guildId = undefined;
    else if (arg === "--guild") {
      const id = argv[++i];
      if (id === undefined || !snowflake.safeParse(id).success) throw new Error(`--guild takes a numeric guild id\n\n${USAGE}`);
      guildId = id;
    } else throw new Error(`unknown argument '${arg}'\n\n${USAGE}`);
  }
  if ((e.ALTIPLANO_URL === undefined) !== (e.ALTIPLANO_API_KEY === undefined)) {
    throw new Error("set both ALTIPLANO_URL and ALTIPLANO_API_KEY (to offer the gateway's models as choices), or neither");
  }
  return {
    token: e.DISCORD_TOKEN,
    scope: { applicationId: e.DISCORD_APPLICATION_ID, ...(guildId ? { guildId } : {}) },
    ...(e.DISCORD_REST_API ? { restApi: e.DISCORD_REST_API } : {}),
    ...(e.ALTIPLANO_URL && e.ALTIPLANO_API_KEY ? { gateway: { url: e.ALTIPLANO_URL, apiKey: e.ALTIPLANO_API_KEY } } : {}),
    checkOnly,
  };
}

/** Runs the script; returns its output lines and exit code (0 done or in sync, 1 differs under --check). */
export async function runDiscordCommands(argv: readonly string[], env: Record<string, string | undefined>): Promise<{ output: string; exitCode: number }> {
  const options = parseOptions(argv, env);
  const lines: string[] = [];
  let models: string[] = [];
  if (options.gateway) {
    models = await new GatewayClient({ baseUrl: options.gateway.url, apiKey: options.gateway.apiKey }).listModels();
    lines.push(`models from the gateway: ${models.join(", ") || "(none)"}`);
  } else {
    lines.push("no ALTIPLANO_URL: /chat and /model get no model choices (/model still lists and checks the live models)");
  }
  const commands = buildCommands(models);
  const rest = new REST(options.restApi ? { api: options.restApi } : {}).setToken(options.token);
  const where = scopeWords(options.scope);
  if (options.checkOnly) {
    const drift = await checkRegisteredCommands({ rest, scope: options.scope, defined: commands });
    lines.push(driftWords(drift, where));
    return { output: `${lines.join("\n")}\n`, exitCode: isInSync(drift) ? 0 : 1 };
  }
  const count = await putCommands(rest, options.scope, commands);
  lines.push(`registered ${count} slash commands ${where}: /${commands.map((c) => c.name).join(", /")}`);
  return { output: `${lines.join("\n")}\n`, exitCode: 0 };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  runDiscordCommands(process.argv.slice(2), process.env).then(
    ({ output, exitCode }) => {
      process.stdout.write(output);
      process.exit(exitCode);
    },
    (err: unknown) => {
      process.stderr.write(`discord:commands: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    },
  );
}
