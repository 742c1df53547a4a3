/**
 * The bot under soak, in its own process so its heap is measured apart from the fake Discord's
 * (which keeps every message it was sent). Started with --expose-gc; the parent asks over IPC:
 * "heap" → forced collections, then the heap in use; "stop" → graceful stop and exit.
 */
import { startBot } from "../../../bot/bot.js";
import { parseBotEnv } from "../../../bot/config.js";
import { silentLogger } from "../../../bot/logger.js";

type Request = { kind: "heap" } | { kind: "stop" };

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !process.send) throw new Error("run with --expose-gc as a forked child");
const send = (m: unknown) => process.send?.(m);

const bot = await startBot(parseBotEnv(process.env), { logger: { ...silentLogger, error: (m, d) => console.error(m, d) } });
send({ kind: "ready", metricsUrl: bot.metricsUrl });

process.on("message", (raw: Request) => {
  if (raw.kind === "heap") {
    // Several passes: weak refs and finalizers free more on the second.
    for (let i = 0; i < 3; i++) gc();
    send({ kind: "heap", heapUsedBytes: process.memoryUsage().heapUsed });
  } else {
    void bot.stop().then(() => process.exit(0));
  }
});
