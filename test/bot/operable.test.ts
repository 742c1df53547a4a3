/**
 * The bot as an operator runs it, end to end against the real gateway stack and the loopback fake
 * Discord: commands registered by `npm run discord:commands` (never by the bot, also not on
 * restart), `/health` and `/metrics` on a local port counting what users saw — finished turns,
 * a gateway error, a Discord rate-limit wait, the first-edit histogram.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";
import { runDiscordCommands } from "../../scripts/discord-commands.js";
import { startBot, type RunningBot } from "../../bot/bot.js";
import { parseBotEnv, type BotConfig } from "../../bot/config.js";
import { GatewayClient } from "../../bot/gateway-client.js";
import type { Logger } from "../../bot/logger.js";
import { BUTTON_IDS } from "../../bot/stream-renderer.js";
import { startFakeDiscord, type FakeDiscord, type FakeMessage } from "../fake-discord/index.js";

/** Per-end-user request limit, so one user can be rate-limited by the gateway in a few turns. */
const END_USER_REQUESTS_PER_MINUTE = 3;

let stack: Stack;
let discord: FakeDiscord;
let bot: RunningBot;
let config: BotConfig;
let env: Record<string, string>;
const logLines: string[] = [];
const logger: Logger = {
  info: (m, d) => logLines.push(`info ${m} ${JSON.stringify(d ?? "")}`),
  warn: (m, d) => logLines.push(`warn ${m} ${d instanceof Error ? d.message : JSON.stringify(d ?? "")}`),
  error: (m, d) => logLines.push(`error ${m} ${d instanceof Error ? d.message : JSON.stringify(d ?? "")}`),
};

beforeAll(async () => {
  stack = await startStack({ sims: 1, sim: { reply: "echo-prompt", fast: true }, vars: { END_USER_LIMIT_REQUESTS_PER_MINUTE: String(END_USER_REQUESTS_PER_MINUTE) } });
  const botKey = await stack.createKey("bot", "discord bot");
  discord = await startFakeDiscord();
  env = {
    DISCORD_TOKEN: discord.token,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_REST_API: discord.restApiUrl,
    DISCORD_DEV_GUILD_ID: discord.guildId,
    ALTIPLANO_URL: stack.url,
    ALTIPLANO_API_KEY: botKey,
    ALTIPLANO_MAX_TOKENS: "200",
    BOT_METRICS_PORT: "0",
  };
  config = parseBotEnv(env);
}, 120_000);

afterAll(async () => {
  await bot?.stop();
  await discord?.stop();
  await stack?.stop();
});

const isBot = (m: FakeMessage) => m.authorId === discord.botUserId;
const isFinished = (m: FakeMessage) => m.components.some((r) => r.components.some((c) => (c.custom_id ?? "").startsWith(BUTTON_IDS.regeneratePrefix))) || m.content.includes("too quickly");

/** A user DMs the bot; resolves with the bot's reply once it shows its final state. */
async function dmTurn(userId: string, content: string): Promise<FakeMessage> {
  const dm = discord.dmChannelFor(userId);
  const before = discord.messagesIn(dm.id).length;
  discord.simulateUserMessage({ channelId: dm.id, content, authorId: userId });
  return discord.waitForMessage((m) => m.channelId === dm.id && isBot(m) && discord.messagesIn(dm.id).indexOf(m) > before && isFinished(m), 30_000);
}

async function metricsText(): Promise<string> {
  const res = await fetch(`${bot.metricsUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return res.text();
}

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

describe("the bot process, operable", () => {
  it("registers commands with the script; the bot finds them and writes none, also after a restart", async () => {
    const registered = await runDiscordCommands([], env);
    expect(registered.exitCode).toBe(0);
    expect(registered.output).toContain(`registered 6 slash commands in guild ${discord.guildId}`);
    expect(discord.rest.commandWrites).toEqual([{ scope: discord.guildId, count: 6 }]);
    // The gateway's models are the choices of /chat's model option.
    const chat = discord.rest.commands.find((c) => c.name === "chat" && c.scope === discord.guildId);
    const modelOption = (chat?.raw.options as Array<{ name: string; choices?: Array<{ value: string }> }> | undefined)?.find((o) => o.name === "model");
    const models = await new GatewayClient({ baseUrl: stack.url, apiKey: env.ALTIPLANO_API_KEY ?? "" }).listModels();
    expect(models.length).toBeGreaterThan(0);
    expect(modelOption?.choices?.map((c) => c.value)).toEqual(models);

    bot = await startBot(config, { logger });
    expect(logLines).toContainEqual(expect.stringContaining(`slash commands registered in guild ${discord.guildId} match this version`));
    await bot.stop();
    bot = await startBot(config, { logger });
    expect(discord.rest.commandWrites).toHaveLength(1);
    const reads = discord.rest.requestLog.filter((r) => r.method === "GET" && r.path.endsWith(`/guilds/${discord.guildId}/commands`));
    expect(reads).toHaveLength(2);
    expect(await runDiscordCommands(["--check"], env)).toEqual({ output: expect.stringContaining("match this version"), exitCode: 0 });
  });

  it("says which commands differ and what to run, without fixing them itself", async () => {
    // Registered without the gateway: no model choices, so /chat and /model differ from what the bot would serve.
    const { ALTIPLANO_URL: _url, ALTIPLANO_API_KEY: _key, ...withoutGateway } = env;
    expect((await runDiscordCommands([], withoutGateway)).exitCode).toBe(0);
    const writes = discord.rest.commandWrites.length;
    await bot.stop();
    bot = await startBot(config, { logger });
    expect(logLines).toContainEqual(
      expect.stringContaining(`warn slash commands registered in guild ${discord.guildId} differ from this version (changed: /chat, /model); run \`npm run discord:commands\``),
    );
    expect(discord.rest.commandWrites).toHaveLength(writes);
    const check = await runDiscordCommands(["--check"], env);
    expect(check.exitCode).toBe(1);
    expect(check.output).toContain("changed: /chat, /model");
    // Put right for the cases below.
    expect((await runDiscordCommands([], env)).exitCode).toBe(0);
  });

  it("serves /health: ok while connected to Discord; 404 elsewhere, 405 for writes", async () => {
    const res = await fetch(`${bot.metricsUrl}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; discord: { connected: boolean }; turns_in_flight: number; uptime_seconds: number };
    expect(body).toMatchObject({ status: "ok", discord: { connected: true }, turns_in_flight: 0 });
    expect(new URL(bot.metricsUrl ?? "").hostname).toBe("127.0.0.1");
    expect((await fetch(`${bot.metricsUrl}/nope`)).status).toBe(404);
    expect((await fetch(`${bot.metricsUrl}/health`, { method: "POST" })).status).toBe(405);
  });

  it("counts finished turns, the first edit's time, and a wait for Discord's rate limit", async () => {
    const ana = discord.addUser({ username: "ana" });
    const before = await metricsText();
    // The first edit of this reply is refused once with a 429; discord.js waits and sends it again.
    discord.rest.rateLimitNext({ method: "PATCH", path: /^\/channels\/\d+\/messages\/\d+$/, retryAfterSeconds: 0.3 });
    const reply = await dmTurn(ana.id, "What do llamas eat?");
    expect(reply.content).toContain("What do llamas eat?");
    const after = await metricsText();
    expect(sample(after, 'altiplano_bot_turns_total{outcome="complete"}')).toBe(sample(before, 'altiplano_bot_turns_total{outcome="complete"}') + 1);
    expect(sample(after, "altiplano_bot_first_token_to_first_edit_seconds_count")).toBe(sample(before, "altiplano_bot_first_token_to_first_edit_seconds_count") + 1);
    expect(sample(after, 'altiplano_bot_discord_rate_limit_waits_total{global="false"}')).toBe(sample(before, 'altiplano_bot_discord_rate_limit_waits_total{global="false"}') + 1);
    expect(sample(after, "altiplano_bot_discord_rate_limit_wait_seconds_total")).toBeGreaterThan(0);
  });

  it("counts a gateway error and the failed turn it caused", async () => {
    const bo = discord.addUser({ username: "bo" });
    let limited: FakeMessage | null = null;
    for (let i = 0; i < END_USER_REQUESTS_PER_MINUTE + 2 && !limited; i++) {
      const reply = await dmTurn(bo.id, `question ${i}`);
      if (reply.content.includes("too quickly")) limited = reply;
    }
    expect(limited).not.toBeNull();
    const text = await metricsText();
    expect(sample(text, 'altiplano_bot_gateway_errors_total{status="429",code="rate_limit_exceeded"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'altiplano_bot_turns_total{outcome="failed"}')).toBeGreaterThanOrEqual(1);
  });
});
