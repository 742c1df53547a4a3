/**
 * The bot's memory under load: 10,000 turns through a real discord.js client against the loopback
 * fake Discord, with the bot in a child process (`--expose-gc`) so its heap can be measured after
 * forced collections, apart from the fake's. The gateway is a fast stand-in (soak/fast-gateway.ts):
 * the soak is about the bot's heap, not the gateway's speed.
 *
 * The bot keeps two bounded things that grow with use until full: discord.js' cache of each
 * channel's last messages (20 in the bot) and the replies it tracks for reactions as feedback
 * (FEEDBACK_TRACKED_MESSAGES). A warm-up fills both; the 10,000 measured turns must then leave the
 * heap flat.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUTTON_IDS } from "../../bot/stream-renderer.js";
import { runDiscordCommands } from "../../scripts/discord-commands.js";
import { startFakeDiscord, type FakeChannel, type FakeDiscord } from "../fake-discord/index.js";
import { startFastGateway, type FastGateway } from "./soak/fast-gateway.js";

const CHANNELS = Number(process.env.SOAK_CHANNELS ?? 50);
/**
 * Enough turns to fill what the bot keeps on purpose: 20 messages per channel in discord.js' cache
 * (a turn adds two) and the last FEEDBACK_TRACKED replies for reactions as feedback.
 */
const FEEDBACK_TRACKED = 250;
const WARMUP_TURNS = Number(process.env.SOAK_WARMUP_TURNS ?? Math.max(CHANNELS * 12, FEEDBACK_TRACKED * 2));
const MEASURED_TURNS = Number(process.env.SOAK_TURNS ?? 10_000);
/** Flat: less than this much growth over the measured turns (about 400 bytes a turn). */
const MAX_GROWTH_BYTES = 4 * 1024 * 1024;
const API_KEY = "soak-key";
/** A turn that takes longer than this is stuck, not slow. */
const TURN_TIMEOUT_MS = 20_000;
const HERE = path.dirname(fileURLToPath(import.meta.url));

let discord: FakeDiscord;
let gateway: FastGateway;
let child: ChildProcess;
let metricsUrl: string;

/** Sends `message` (if any) to the bot child and resolves with its first answer of kind `reply`. */
function ask<T>(message: { kind: string } | null, reply: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { kind: string }) => {
      if (m.kind !== reply) return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(m as T);
    };
    const onExit = (code: number | null) => reject(new Error(`bot child exited (${code}) before saying ${reply}`));
    child.on("message", onMessage);
    child.once("exit", onExit);
    if (message) child.send(message);
  });
}

const heapUsed = async () => (await ask<{ heapUsedBytes: number }>({ kind: "heap" }, "heap")).heapUsedBytes;

/**
 * Runs `turns` turns, one at a time per DM channel, all channels at once: a user writes, the bot
 * answers; a turn is done when the bot's reply shows its final state (the Regenerate button).
 */
async function runTurns(channels: Array<{ channel: FakeChannel; userId: string }>, turns: number): Promise<void> {
  let started = 0;
  const waiting = new Map<string, () => void>();
  // One listener for all channels: the newest log entry says which channel's reply just changed.
  const off = discord.state.onChange(() => {
    const last = discord.state.log.at(-1);
    if (!last || last.kind !== "edit") return;
    const done = waiting.get(last.channelId);
    const m = discord.state.messages.get(last.messageId);
    if (!done || !m || m.authorId !== discord.botUserId) return;
    const buttons = m.components.flatMap((r) => r.components.map((c) => c.custom_id ?? ""));
    if (buttons.some((id) => id.startsWith(BUTTON_IDS.regeneratePrefix))) {
      waiting.delete(last.channelId);
      done();
    }
  });
  const loop = async ({ channel, userId }: { channel: FakeChannel; userId: string }) => {
    while (started < turns) {
      started++;
      let timer: NodeJS.Timeout | undefined;
      const finished = new Promise<void>((resolve, reject) => {
        waiting.set(channel.id, resolve);
        timer = setTimeout(() => {
          const shown = discord.messagesIn(channel.id).slice(-3).map((m) => `${m.authorId === discord.botUserId ? "bot" : "user"}: ${JSON.stringify(m.content)} ${JSON.stringify(m.components)}`);
          reject(new Error(`turn ${started} in ${channel.id} did not finish within ${TURN_TIMEOUT_MS} ms; last messages:\n${shown.join("\n")}`));
        }, TURN_TIMEOUT_MS);
      });
      discord.simulateUserMessage({ channelId: channel.id, content: `What do llamas eat? (${started})`, authorId: userId });
      await finished.finally(() => clearTimeout(timer));
    }
  };
  try {
    await Promise.all(channels.map(loop));
  } finally {
    off();
  }
}

async function turnsCompleted(): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const m = /^altiplano_bot_turns_total\{outcome="complete"\} (\d+)$/m.exec(text);
  return Number(m?.[1] ?? NaN);
}

beforeAll(async () => {
  discord = await startFakeDiscord();
  gateway = await startFastGateway(API_KEY);
  const env = {
    DISCORD_TOKEN: discord.token,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_REST_API: discord.restApiUrl,
    ALTIPLANO_URL: gateway.url,
    ALTIPLANO_API_KEY: API_KEY,
    BOT_METRICS_PORT: "0",
    // The fake has no global request budget; Discord's real 50 a second would make this take minutes.
    DISCORD_REST_REQUESTS_PER_SECOND: "10000",
    EDIT_INTERVAL_MS: "200",
    // At the default 10,000 the tracking alone would fill for the whole soak (about 1 KB a reply).
    FEEDBACK_TRACKED_MESSAGES: String(FEEDBACK_TRACKED),
  };
  expect((await runDiscordCommands([], env)).exitCode).toBe(0);
  child = fork(path.join(HERE, "soak", "bot-child.ts"), [], {
    execArgv: ["--import", "tsx", "--expose-gc"],
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = await ask<{ metricsUrl: string | null }>(null, "ready");
  if (!ready.metricsUrl) throw new Error("the bot child serves no /metrics");
  metricsUrl = ready.metricsUrl;
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.send({ kind: "stop" });
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await gateway?.stop();
  await discord?.stop();
});

describe("the bot's heap over 10,000 turns", () => {
  it("stays flat once discord.js' per-channel caches are full", async () => {
    const users = Array.from({ length: CHANNELS }, (_, i) => discord.addUser({ username: `soak${i}` }));
    const channels = users.map((u) => ({ channel: discord.dmChannelFor(u.id), userId: u.id }));
    const atStart = await heapUsed();
    const t0 = performance.now();
    await runTurns(channels, WARMUP_TURNS);
    const afterWarmup = await heapUsed();
    const t1 = performance.now();
    // In quarters, to see the curve: flat, or a steady climb.
    const quarters: number[] = [];
    for (let q = 0; q < 4; q++) {
      await runTurns(channels, MEASURED_TURNS / 4);
      quarters.push(await heapUsed());
    }
    const t2 = performance.now();
    const afterSoak = quarters.at(-1) ?? NaN;

    const mb = (b: number) => (b / 1024 / 1024).toFixed(2);
    console.log(
      `bot soak: heap used after forced GC — at start ${mb(atStart)} MB; after ${WARMUP_TURNS} warm-up turns ${mb(afterWarmup)} MB; ` +
        `after ${MEASURED_TURNS} more turns ${mb(afterSoak)} MB (growth ${((afterSoak - afterWarmup) / 1024).toFixed(0)} KB, ` +
        `${((afterSoak - afterWarmup) / MEASURED_TURNS).toFixed(1)} bytes/turn); warm-up ${((t1 - t0) / 1000).toFixed(1)} s, ` +
        `soak ${((t2 - t1) / 1000).toFixed(1)} s (${(MEASURED_TURNS / ((t2 - t1) / 1000)).toFixed(0)} turns/s); ` +
        `after each quarter: ${quarters.map(mb).join(", ")} MB`,
    );
    expect(await turnsCompleted()).toBe(WARMUP_TURNS + MEASURED_TURNS);
    expect(gateway.turns()).toBe(WARMUP_TURNS + MEASURED_TURNS);
    expect(afterSoak - afterWarmup).toBeLessThan(MAX_GROWTH_BYTES);
  }, 240_000);
});
