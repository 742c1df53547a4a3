/**
 * CLI: `npm run agent -- --gateway-url https://gateway.example --vllm-url http://127.0.0.1:8000`
 * with POOL_TOKEN in the environment (see `--help`). SIGTERM / SIGINT drain, then exit 0; a
 * second signal exits at once.
 */
import { startAgent } from "./agent.js";
import { agentHelpText, AgentConfigError, parseAgentConfig } from "./config.js";

function main(): void {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(agentHelpText());
    return;
  }
  let config;
  try {
    config = parseAgentConfig(argv, process.env);
  } catch (err) {
    if (err instanceof AgentConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const agent = startAgent(config);
  process.stderr.write(`agent ${config.workerId}: polling ${config.vllmUrl}, heartbeating to ${config.gatewayUrl} as ${config.publicUrl ?? "the quick tunnel's current URL"}\n`);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(1);
    signalled = true;
    process.stderr.write(`agent ${config.workerId}: ${signal}; draining\n`);
    void agent.drainAndStop();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  void agent.stopped.then(() => process.exit(0));
}

main();
