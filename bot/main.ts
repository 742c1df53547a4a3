/**
 * `npm run bot`: reads the environment, starts the bot, and stops it gracefully on SIGTERM/SIGINT.
 */
import { startBot } from "./bot.js";
import { parseBotEnv } from "./config.js";
import { consoleLogger } from "./logger.js";

async function main(): Promise<void> {
  let config;
  try {
    config = parseBotEnv(process.env);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  }
  const bot = await startBot(config, { logger: consoleLogger });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    consoleLogger.info(`received ${signal}; finishing in-flight replies`);
    bot.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        consoleLogger.error("shutdown failed", error);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  consoleLogger.error("bot failed to start", error);
  process.exit(1);
});
