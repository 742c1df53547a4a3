/**
 * What every handler needs: the Discord client, configuration, the gateway client, the turn
 * runner and the feedback recorder. Built once by startBot.
 */
import type { Client } from "discord.js";
import type { BotConfig } from "./config.js";
import type { FeedbackRecorder } from "./feedback-recorder.js";
import type { GatewayClient } from "./gateway-client.js";
import type { Logger } from "./logger.js";
import type { TurnRunner } from "./turn-runner.js";

/** Shared dependencies of the handlers. */
export interface BotContext {
  client: Client<true>;
  config: BotConfig;
  gateway: GatewayClient;
  runner: TurnRunner;
  /** Reactions on the bot's replies → feedback. */
  feedback: FeedbackRecorder;
  logger: Logger;
  /** True once shutdown began: no new turns are accepted. */
  isShuttingDown(): boolean;
}
