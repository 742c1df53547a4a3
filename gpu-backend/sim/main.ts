/**
 * CLI: `npm run sim -- --port 8001 --reply echo-prompt --fast` (see `--help`). Prints exactly one
 * line `sim <workerId> listening on <url>` on stdout once listening (launchers parse it) and
 * exits cleanly on SIGTERM / SIGINT.
 */
import { parseSimConfig, SimConfigError, simHelpText } from "./config.js";
import { startSimulator } from "./server.js";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(simHelpText());
    return;
  }
  let config;
  try {
    config = parseSimConfig(argv, process.env);
  } catch (error) {
    if (error instanceof SimConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const sim = await startSimulator(config);
  process.stdout.write(`sim ${sim.workerId} listening on ${sim.url}\n`);
  if (sim.adminUrl !== undefined) process.stderr.write(`sim ${sim.workerId} admin on ${sim.adminUrl}\n`);
  const shutdown = (): void => {
    void sim.stop().then(() => process.exit(0));
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`sim: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
