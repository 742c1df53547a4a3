/**
 * `npm start`: the whole platform on this machine — simulated GPU workers, the gateway under
 * wrangler dev with local D1 — then prints the URL and ready keys. State (D1, keys) persists in
 * .altiplano/ between runs; Ctrl-C stops everything.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { startStack } from "./stack.js";

const StartEnv = z.object({
  ALTIPLANO_PORT: z.coerce.number().int().min(1).max(65535).default(8787),
  ALTIPLANO_SIMS: z.coerce.number().int().min(1).max(16).default(2),
  ALTIPLANO_SIM_REPLY: z.enum(["echo-prompt", "echo", "lorem"]).default("lorem"),
  ALTIPLANO_STATE_DIR: z.string().default(".altiplano"),
});

async function readOrCreate(file: string, make: () => string | Promise<string>): Promise<string> {
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const value = await make();
  await writeFile(file, value + "\n", { mode: 0o600 });
  return value;
}

async function main(): Promise<void> {
  const env = StartEnv.parse(process.env);
  const stateDir = path.resolve(env.ALTIPLANO_STATE_DIR);
  await mkdir(stateDir, { recursive: true });
  const adminKey = await readOrCreate(path.join(stateDir, "admin-key"), () => `sk-admin-${randomBytes(18).toString("base64url")}`);
  const started = Date.now();
  console.log(`Starting Altiplano: ${env.ALTIPLANO_SIMS} simulated GPU workers and the gateway (wrangler dev, local D1)…`);
  const stack = await startStack({
    sims: env.ALTIPLANO_SIMS,
    sim: { reply: env.ALTIPLANO_SIM_REPLY },
    stateDir: path.join(stateDir, "wrangler"),
    port: env.ALTIPLANO_PORT,
    adminKey,
  });
  const userKeyFile = path.join(stateDir, "user-key");
  let userKey = stack.userKey;
  if (existsSync(userKeyFile)) {
    const saved = (await readFile(userKeyFile, "utf8")).trim();
    const check = await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${saved}` } });
    if (check.ok) userKey = saved;
  }
  await writeFile(userKeyFile, userKey + "\n", { mode: 0o600 });

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`
Altiplano is running (started in ${seconds} s). The GPU workers are simulators, not a model.
Gateway:   ${stack.url}
API key:   ${userKey}
Admin key: ${adminKey}
Workers:   ${stack.sims.map((s) => `${s.workerId} ${s.url}`).join(", ")}

Try:
curl -s ${stack.url}/v1/chat/completions -H "Authorization: Bearer ${userKey}" -H "Content-Type: application/json" -d '{"model":"vicuna-13b-v1.5","messages":[{"role":"user","content":"Hello!"}]}'

Press Ctrl-C to stop.`);

  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    console.log("\nStopping…");
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
