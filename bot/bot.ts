/**
 * Starts the bot in-process: a discord.js client logged in with the configured token (through
 * the configured REST base, if any), slash commands registered, handlers attached.
 */
import { Client, Events, GatewayIntentBits, Partials } from "discord.js";
import { buildCommands } from "../discord/commands.js";
import type { BotConfig } from "./config.js";
import type { BotContext } from "./context.js";
import { GatewayClient } from "./gateway-client.js";
import { handleInteraction } from "./handlers/interaction.js";
import { handleMessage } from "./handlers/message.js";
import { handleReaction } from "./handlers/reactions.js";
import { FeedbackRecorder } from "./feedback-recorder.js";
import { consoleLogger, type Logger } from "./logger.js";
import { TurnRunner } from "./turn-runner.js";

/** A running bot. */
export interface RunningBot {
  client: Client<true>;
  /** Times from first generated text to the first Discord message showing it, per reply (ms). */
  firstVisibleSamplesMs(): readonly number[];
  /** Stops taking new work, lets in-flight replies finish (or marks them), then logs out. */
  stop(): Promise<void>;
}

export interface StartBotOptions {
  logger?: Logger;
}

/** Logs in, registers commands and starts answering; resolves once the client is ready. */
export async function startBot(config: BotConfig, options: StartBotOptions = {}): Promise<RunningBot> {
  const logger = options.logger ?? consoleLogger;
  const client = new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.MessageContent,
      GatewayIntentBits.DirectMessages,
      // 👍 / 👎 on the bot's replies are feedback.
      GatewayIntentBits.GuildMessageReactions,
      GatewayIntentBits.DirectMessageReactions,
    ],
    // DM channels are not cached up front; without the Channel partial, DMs would never arrive.
    // Reactions on messages discord.js no longer caches (and by users it has not seen) arrive
    // only with the Message, Reaction and User partials; the handler needs nothing but their ids.
    partials: [Partials.Channel, Partials.Message, Partials.Reaction, Partials.User],
    ...(config.discordRestApi ? { rest: { api: config.discordRestApi } } : {}),
  });
  const gateway = new GatewayClient({ baseUrl: config.gatewayUrl, apiKey: config.gatewayApiKey });
  const feedback = new FeedbackRecorder({ setFeedback: (args) => gateway.setFeedback(args), logger });
  const runner = new TurnRunner({ gateway, config, logger, feedback });
  let shuttingDown = false;

  const ready = new Promise<Client<true>>((resolve) => client.once(Events.ClientReady, resolve));
  await client.login(config.discordToken);
  const readyClient = await ready;

  const ctx: BotContext = { client: readyClient, config, gateway, runner, feedback, logger, isShuttingDown: () => shuttingDown };
  client.on(Events.MessageCreate, (m) => void handleMessage(ctx, m));
  client.on(Events.MessageReactionAdd, (r, u) => void handleReaction(ctx, "add", r, u));
  client.on(Events.MessageReactionRemove, (r, u) => void handleReaction(ctx, "remove", r, u));
  // Interactions in progress, for shutdown: an /arena battle is answered outside the turn runner.
  const interactions = new Set<Promise<void>>();
  client.on(Events.InteractionCreate, (i) => {
    const handled = handleInteraction(ctx, i);
    interactions.add(handled);
    void handled.finally(() => interactions.delete(handled));
  });
  client.on(Events.Error, (e) => logger.error("discord client error", e));

  await registerCommands(ctx);
  logger.info("bot ready", { user: readyClient.user.tag });

  return {
    client: readyClient,
    firstVisibleSamplesMs: () => runner.firstVisibleSamplesMs,
    async stop() {
      if (shuttingDown) return;
      shuttingDown = true;
      const deadline = performance.now() + config.shutdownGraceMs;
      await runner.drain(config.shutdownGraceMs);
      // Whatever is left of the grace for interactions the runner does not know (an arena battle).
      let timer: NodeJS.Timeout | undefined;
      const graceLeft = new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadline - performance.now()))));
      await Promise.race([Promise.all(interactions), graceLeft]);
      clearTimeout(timer);
      await client.destroy();
      logger.info("bot stopped");
    },
  };
}

async function registerCommands(ctx: BotContext): Promise<void> {
  let models: string[] = [];
  try {
    models = await ctx.gateway.listModels();
  } catch (error) {
    // Commands still work without fixed choices; /model validates against the live list.
    ctx.logger.warn("could not list models for command choices", error);
  }
  const commands = buildCommands(models);
  const guildId = ctx.config.devGuildId;
  if (guildId) await ctx.client.application.commands.set(commands, guildId);
  else await ctx.client.application.commands.set(commands);
  ctx.logger.info("slash commands registered", { scope: guildId ? `guild ${guildId}` : "global", count: commands.length });
}
