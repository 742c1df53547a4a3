/**
 * `npm run worker`: one GPU worker as one process — a vLLM simulator and the agent that joins it
 * to the gateway's pool, or with `--vllm-url` only the agent in front of a real vLLM (see
 * `--help`). Killing the process is exactly a GPU box dying; SIGTERM / SIGINT drain it first.
 *
 * Before anything starts it asks the gateway whether the pool token is right, so a wrong token is
 * one clear line and exit code 2 rather than an agent retrying forever. Once the first heartbeat
 * is accepted it prints one line on stdout, `worker <id> joined <gateway> serving <url>`, which
 * supervisors (`npm start`) wait for.
 */
import { startAgent, type RunningAgent } from "../agent/agent.js";
import { parseSimConfig, SimConfigError } from "../sim/config.js";
import { startSimulator, type RunningSimulator } from "../sim/server.js";
import { stopWithNpm } from "./npm-parent.js";
import { checkPoolToken } from "./pool-token-check.js";
import { parseWorkerOptions, workerHelpText, WorkerOptionsError, type WorkerOptions } from "./options.js";

const JOIN_POLL_MS = 100;

function fail(message: string, code: number): never {
  process.stderr.write(`worker: ${message}\n`);
  process.exit(code);
}

function parseOptions(): WorkerOptions | null {
  try {
    const options = parseWorkerOptions(process.argv.slice(2), process.env);
    if (options === "help") {
      process.stdout.write(workerHelpText());
      return null;
    }
    return options;
  } catch (err) {
    if (err instanceof WorkerOptionsError) fail(err.message, 2);
    throw err;
  }
}

async function startSim(options: WorkerOptions): Promise<RunningSimulator> {
  let config;
  try {
    config = parseSimConfig(options.simArgs, process.env);
  } catch (err) {
    if (err instanceof SimConfigError) fail(err.message, 2);
    throw err;
  }
  return startSimulator({ ...config, ...(options.model ? { model: options.model } : {}), ...(options.id ? { workerId: options.id } : {}) });
}

/** Resolves once the pool has accepted a heartbeat (the worker is a member), or the agent stopped. */
async function joined(agent: RunningAgent): Promise<boolean> {
  let stopped = false;
  void agent.stopped.then(() => (stopped = true));
  while (!stopped && agent.status().heartbeatsAccepted === 0) await new Promise((r) => setTimeout(r, JOIN_POLL_MS));
  return !stopped;
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (options === null) return;

  const check = await checkPoolToken(options.gateway, options.poolToken);
  if (check.kind === "refused") fail(`the gateway at ${options.gateway} refused the pool token: ${check.message} (use the token \`npm start\` printed, saved in .altiplano/pool-token)`, 2);
  if (check.kind === "unreachable") fail(`cannot reach the gateway at ${options.gateway}: ${check.message}`, 1);

  const sim = options.vllmUrl === undefined ? await startSim(options) : null;
  const vllmUrl = sim?.url ?? options.vllmUrl!;
  const agent = startAgent({
    gatewayUrl: options.gateway,
    vllmUrl,
    publicUrl: options.publicUrl,
    workerId: options.id ?? sim?.workerId,
    poolToken: options.poolToken,
    vllmApiKey: process.env.VLLM_API_KEY || undefined,
    pollIntervalMs: options.heartbeatMs,
    drainSettleMs: Math.min(3_000, 2 * options.heartbeatMs),
    drainDeadlineMs: options.drainDeadlineMs,
  });
  const id = agent.config.workerId;

  const stopAll = async (): Promise<void> => {
    await agent.stop().catch(() => undefined);
    await sim?.stop().catch(() => undefined);
  };
  let signalled = false;
  const onSignal = (reason: string): void => {
    if (signalled) process.exit(1);
    signalled = true;
    process.stderr.write(`worker ${id}: ${reason}; draining (a second signal stops at once)\n`);
    void agent
      .drainAndStop()
      .then(() => sim?.stop())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  stopWithNpm(() => onSignal("npm, which started this worker, is gone"));
  if (options.stopWithStdin) {
    // The supervisor holds the other end: when it is gone, so is the reason to run.
    process.stdin.on("end", () => void stopAll().then(() => process.exit(0)));
    process.stdin.on("error", () => void stopAll().then(() => process.exit(0)));
    process.stdin.resume();
  }

  if (!(await joined(agent))) return;
  process.stdout.write(`worker ${id} joined ${options.gateway} serving ${agent.config.publicUrl}${sim ? " (a vLLM simulator, not a model)" : ""}\n`);
  const served = agent.status().models?.map((m) => m.id) ?? [];
  if (sim === null && options.model !== undefined && !served.includes(options.model)) {
    process.stderr.write(`worker ${id}: note: --model ${options.model} is not what ${vllmUrl} serves (${served.join(", ")}); the pool routes by what vLLM reports\n`);
  }
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err), 1));
