/**
 * `npm start`: the whole platform on this machine — simulated GPU workers, each its own
 * `npm run worker` process (simulator + agent), the gateway in workerd with local D1 (Miniflare,
 * or wrangler dev with ALTIPLANO_RUNTIME=wrangler) and, when DISCORD_TOKEN is set, the Discord bot
 * with a bot key of its own — then prints the URL, ready keys, the pool token and the command
 * that joins one more worker. State (D1, keys, pool token) persists in .altiplano/ between runs,
 * which one `npm start` at a time may use. A worker that dies is reported, never restarted: it is
 * a GPU box gone. Ctrl-C, SIGTERM or SIGHUP stops every child process.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { startBot, type RunningBot } from "../bot/bot.js";
import { parseBotEnv } from "../bot/config.js";
import { consoleLogger } from "../bot/logger.js";
import { unstable_readConfig } from "wrangler";
import { isPoolEntry, ModelEntries } from "../workers/models/model-config.js";
import { parseVars } from "../workers/vars.js";
import { gatewayVarsFrom, readDevVars } from "./gateway-vars.js";
import { startStack, type Stack } from "./stack.js";
import { lockStateDir, StateDirLocked } from "./state-lock.js";
import { stopWithNpm } from "../gpu-backend/worker/npm-parent.js";
import type { WorkerProcess } from "./worker-process.js";
import { buildWeb } from "../web/build.js";

const StartEnv = z.object({
  ALTIPLANO_PORT: z.coerce.number().int().min(1).max(65535).default(8787),
  /** Simulated GPU workers per pool model. */
  ALTIPLANO_SIMS: z.coerce.number().int().min(1).max(16).default(2),
  ALTIPLANO_SIM_REPLY: z.enum(["echo-prompt", "echo", "lorem"]).default("lorem"),
  ALTIPLANO_STATE_DIR: z.string().default(".altiplano"),
  /** Public demo mode on the web page: visitors chat without a key, with end-user limits. */
  ALTIPLANO_PUBLIC_DEMO: z.enum(["0", "1", "false", "true", ""]).default("").transform((v) => v === "1" || v === "true"),
});

/**
 * The models a local stack serves unless MODELS is set: two sizes of Vicuna, each on its own
 * simulated workers, so comparisons (arena, judge) work out of the box. Both are in the arena; a
 * vote on a battle where an answer named Vicuna or its makers is not rated.
 */
const VICUNA_IDENTITY = ["vicuna", "lmsys", "large model systems"];
const LOCAL_MODELS = JSON.stringify([
  { id: "vicuna-13b-v1.5", template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 512, arena: { weight: 1, identityWords: VICUNA_IDENTITY } },
  { id: "vicuna-7b-v1.5", template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 512, arena: { weight: 1, identityWords: VICUNA_IDENTITY } },
]);

async function readOrCreate(file: string, make: () => string | Promise<string>): Promise<string> {
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const value = await make();
  await writeFile(file, value + "\n", { mode: 0o600 });
  return value;
}

/** The key saved in `file` if the gateway still accepts it, else a new one from `make`, saved there. */
async function keptKey(stack: Stack, file: string, make: () => Promise<string>): Promise<string> {
  const saved = existsSync(file) ? (await readFile(file, "utf8")).trim() : "";
  if (saved !== "" && (await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${saved}` } })).ok) return saved;
  const key = await make();
  await writeFile(file, key + "\n", { mode: 0o600 });
  return key;
}

/** Starts the bot against this gateway when a Discord token is configured, with a bot key kept in stateDir. */
async function maybeStartBot(stack: Stack, stateDir: string): Promise<RunningBot | null> {
  if (!process.env.DISCORD_TOKEN) return null;
  const botKey = await keptKey(stack, path.join(stateDir, "bot-key"), () => stack.createKey("bot", "discord bot (npm start)"));
  const config = parseBotEnv({ ...process.env, ALTIPLANO_URL: stack.url, ALTIPLANO_API_KEY: botKey });
  return startBot(config, { logger: consoleLogger });
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${name} is not valid JSON: ${text.slice(0, 80)}`);
  }
}

/** What to type to join one more worker to this stack (a real GPU: add --vllm-url). */
function joinCommand(o: { url: string; poolToken: string; model: string; id: string }): string {
  return `npm run worker -- --gateway ${o.url} --pool-token ${o.poolToken} --model ${o.model} --id ${o.id}`;
}

/** Says on the console when a worker process dies while the stack runs; it is not restarted. */
function reportDeath(worker: WorkerProcess, isStopping: () => boolean): void {
  void worker.exited.then(({ code, signal }) => {
    if (isStopping()) return;
    const how = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
    console.log(
      `\nWorker ${worker.id} (${worker.model}, pid ${worker.pid}) ${how}. It is not restarted: like a GPU box gone, ` +
        `the pool marks it unhealthy, then gone, and its answers continue on other workers. ` +
        `Start another with npm run worker (the command above).`,
    );
  });
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
async function main(): Promise<void> {
  const env = StartEnv.parse(process.env);
  const stateDir = path.resolve(env.ALTIPLANO_STATE_DIR);
  await mkdir(stateDir, { recursive: true });
  // Whoever reads our output may be gone (a closed terminal, a killed npm): stopping must go on.
  process.stdout.on("error", () => undefined);
  process.stderr.on("error", () => undefined);
  const unlock = lockStateDir(stateDir);
  process.on("exit", unlock);

  let stack: Stack | null = null;
  let bot: RunningBot | null = null;
  let stopping = false;
  const shutdown = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\nStopping (${reason})…`);
    // At once and synchronously: Miniflare's own handler for this signal, which runs next, kills
    // workerd and exits this process before any await here would resume.
    stack?.signalChildren("SIGTERM");
    if (stack === null) process.exit(1);
    const running = stack;
    (bot ? bot.stop() : Promise.resolve())
      .catch(() => undefined)
      .then(() => running.stop())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  // In front of the listeners Miniflare adds when the gateway starts.
  for (const signal of STOP_SIGNALS) process.prependListener(signal, shutdown);
  stopWithNpm(() => shutdown("npm, which started this, is gone"));

  const adminKey = await readOrCreate(path.join(stateDir, "admin-key"), () => `sk-admin-${randomBytes(18).toString("base64url")}`);
  // Kept, so a restart does not sign everyone out of the web page.
  const sessionSecret = await readOrCreate(path.join(stateDir, "session-secret"), () => randomBytes(32).toString("base64url"));
  // Kept, so workers joined by hand keep working across restarts.
  const poolToken = await readOrCreate(path.join(stateDir, "pool-token"), () => `pool-${randomBytes(18).toString("base64url")}`);
  const started = Date.now();
  // The web page's files, which the gateway serves at /.
  await buildWeb();
  console.log(`Starting Altiplano: ${env.ALTIPLANO_SIMS} simulated GPU worker processes per pool model and the gateway (workerd via ${process.env.ALTIPLANO_RUNTIME === "wrangler" ? "wrangler dev" : "Miniflare"}, local D1)…`);
  const known = Object.keys(unstable_readConfig({ config: "wrangler.toml" }).vars ?? {});
  const vars = { MODELS: LOCAL_MODELS, ...gatewayVarsFrom({ devVars: await readDevVars(".dev.vars"), env: process.env, knownVars: known }) };
  // The gateway would refuse a bad MODELS on its first request; say so before starting anything.
  const models = parseVars(ModelEntries, parseJson(vars.MODELS, "MODELS"), "MODELS");
  const poolModels = models.filter(isPoolEntry).map((m) => m.id);
  if (poolModels.length === 0) throw new Error("MODELS names no pool model: nothing for the simulated GPU workers to serve.");
  stack = await startStack({
    vars,
    models: poolModels,
    sims: env.ALTIPLANO_SIMS,
    // Answer like a model: lorem replies stop at natural lengths, and Regenerate samples anew.
    sim: { reply: env.ALTIPLANO_SIM_REPLY, replyLength: "sharegpt", seeding: "request" },
    // The arena's two sides should not write the same words.
    seedPerModel: true,
    stateDir: path.join(stateDir, "wrangler"),
    port: env.ALTIPLANO_PORT,
    adminKey,
    sessionSecret,
    publicDemo: env.ALTIPLANO_PUBLIC_DEMO,
    workerProcesses: true,
    poolToken,
    onWorkerOutput: (id, line) => console.log(`[${id}] ${line}`),
  });
  const userKey = await keptKey(stack, path.join(stateDir, "user-key"), async () => stack.userKey);
  try {
    bot = await maybeStartBot(stack, stateDir);
  } catch (err) {
    // Don't leave the gateway and workers running behind a failed start.
    await stack.stop();
    throw err;
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`
Altiplano is running (started in ${seconds} s). The GPU workers are simulators, not a model.
Web:       ${stack.url}/  (sign in with the API key below${env.ALTIPLANO_PUBLIC_DEMO ? ", or chat without one: public demo mode is on" : ""})
Gateway:   ${stack.url}
API key:   ${userKey}
Admin key: ${adminKey}
Models:    ${models.map((m) => `${m.id} (${isPoolEntry(m) ? "GPU pool" : "provider"})`).join(", ")}
Workers:   ${stack.processes.map((w) => `${w.id} (${w.model}, pid ${w.pid}) ${w.url}`).join(", ")}
Pool:      npm run pool -- status   (reads the admin key saved in ${env.ALTIPLANO_STATE_DIR}/)
Discord:   ${bot ? "bot connected" : "off (set DISCORD_TOKEN and DISCORD_APPLICATION_ID to start the bot; see bot/README.md)"}

Try:
curl -s ${stack.url}/v1/chat/completions -H "Authorization: Bearer ${userKey}" -H "Content-Type: application/json" -d '{"model":"${poolModels[0]}","messages":[{"role":"user","content":"Hello!"}]}'

Pool token: ${poolToken}   (saved in ${env.ALTIPLANO_STATE_DIR}/pool-token)
Join one more simulated GPU worker to this stack (a real GPU: add --vllm-url http://<vLLM host>:8000):
${joinCommand({ url: stack.url, poolToken, model: poolModels[0]!, id: `sim-${stack.processes.length + 1}` })}

Press Ctrl-C to stop.`);
  for (const worker of stack.processes) reportDeath(worker, () => stopping);
}

main().catch((err: unknown) => {
  if (err instanceof StateDirLocked) {
    console.error(err.message);
    process.exit(3);
  }
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
