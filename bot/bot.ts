/**
 * Starts the bot in-process: a discord.js client logged in with the configured token (through
 * the configured REST base, if any), handlers attached, the registered slash commands checked
 * (registering them is `npm run discord:commands`' job), and /health + /metrics if configured.
 */
import { Client, Events, GatewayIntentBits, Options, Partials, RESTEvents, Status } from "discord.js";
import { driftWords, isInSync } from "../discord/command-sync.js";
import { buildCommands } from "../discord/commands.js";
import { checkRegisteredCommands, scopeWords } from "./command-registration.js";
import type { BotConfig } from "./config.js";
import type { BotContext } from "./context.js";
import { GatewayClient } from "./gateway-client.js";
import { handleInteraction } from "./handlers/interaction.js";
import { handleMessage } from "./handlers/message.js";
import { handleReaction } from "./handlers/reactions.js";
import { FeedbackRecorder } from "./feedback-recorder.js";
import { startHealthServer, type HealthReport, type HealthServer } from "./health-server.js";
import { consoleLogger, type Logger } from "./logger.js";
import { BotMetrics, renderPrometheus, type MetricsSnapshot } from "./metrics.js";
import { TurnRunner } from "./turn-runner.js";

/** Messages discord.js keeps per channel (its default is 200). */
const MESSAGES_CACHED_PER_CHANNEL = 20;

/** A running bot. */
export interface RunningBot {
  client: Client<true>;
  /** Counters and gauges as /metrics shows them (also when /metrics is not served). */
  metrics(): MetricsSnapshot;
  /** Where /health and /metrics are served, or null if BOT_METRICS_PORT is unset. */
  metricsUrl: string | null;
  /** Stops taking new work, lets in-flight replies finish (or marks them), then logs out. */
  stop(): Promise<void>;
}

export interface StartBotOptions {
  logger?: Logger;
}

/** Logs in, checks the registered commands and starts answering; resolves once the client is ready. */
export async function startBot(config: BotConfig, options: StartBotOptions = {}): Promise<RunningBot> {
  const logger = options.logger ?? consoleLogger;
  const startedAtMs = performance.now();
  const metrics = new BotMetrics();
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
    // The bot reads no channel history from the cache (replies keep their own Message objects;
    // reactions and buttons carry ids), so keep few messages per channel: discord.js' default of
    // 200 per channel is most of a long-running bot's heap.
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: MESSAGES_CACHED_PER_CHANNEL }),
    rest: { globalRequestsPerSecond: config.discordRequestsPerSecond, ...(config.discordRestApi ? { api: config.discordRestApi } : {}) },
  });
  client.rest.on(RESTEvents.RateLimited, (info) => metrics.discordRateLimited({ waitMs: info.timeToReset, global: info.global }));
  const gateway = new GatewayClient({ baseUrl: config.gatewayUrl, apiKey: config.gatewayApiKey, onError: (e) => metrics.gatewayError(e) });
  const feedback = new FeedbackRecorder({ setFeedback: (args) => gateway.setFeedback(args), logger, maxTrackedMessages: config.feedbackTrackedMessages });
  const runner = new TurnRunner({ gateway, config, logger, feedback, metrics });
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

  await checkCommands(ctx);

  const snapshot = () =>
    metrics.snapshot({
      turnsInFlight: runner.inFlightCount,
      heapUsedBytes: process.memoryUsage().heapUsed,
      uptimeSeconds: Math.round((performance.now() - startedAtMs) / 1000),
    });
  const health = (): HealthReport => {
    const connected = client.ws.status === Status.Ready;
    return {
      status: shuttingDown ? "stopping" : connected ? "ok" : "connecting",
      discord: { connected, pingMs: client.ws.ping >= 0 ? client.ws.ping : null },
      turnsInFlight: runner.inFlightCount,
      uptimeSeconds: Math.round((performance.now() - startedAtMs) / 1000),
    };
  };
  let healthServer: HealthServer | null = null;
  if (config.metrics) {
    healthServer = await startHealthServer({ ...config.metrics, health, metrics: () => renderPrometheus(snapshot()) });
    logger.info("health and metrics served", { health: `${healthServer.url}/health`, metrics: `${healthServer.url}/metrics` });
  }
  logger.info("bot ready", { user: readyClient.user.tag });

  return {
    client: readyClient,
    metrics: snapshot,
    metricsUrl: healthServer?.url ?? null,
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
      await healthServer?.close();
      logger.info("bot stopped");
    },
  };
}

/**
 * Says whether the registered slash commands match this version's, and what to run if not. Never
 * writes them: Discord rate-limits command writes, and a crash loop must not use them up.
 */
async function checkCommands(ctx: BotContext): Promise<void> {
  const scope = { applicationId: ctx.client.application.id, ...(ctx.config.devGuildId ? { guildId: ctx.config.devGuildId } : {}) };
  let models: string[] | null = null;
  try {
    models = await ctx.gateway.listModels();
  } catch (error) {
    ctx.logger.warn("could not list models; checking command names only", error);
  }
  try {
    const drift = await checkRegisteredCommands({ rest: ctx.client.rest, scope, defined: buildCommands(models ?? []) });
    // Without the model list, the model choices cannot be compared: only missing or extra commands count.
    const judged = models === null ? { ...drift, changed: [] } : drift;
    const words = driftWords(judged, scopeWords(scope));
    if (isInSync(judged)) ctx.logger.info(words);
    else ctx.logger.warn(words);
  } catch (error) {
    ctx.logger.warn(`could not read the slash commands registered ${scopeWords(scope)}`, error);
  }
}
