/**
 * The bot's logging interface: lines on stderr by default, replaceable (and silenceable) in tests.
 */

/** Where the bot reports what it does. */
export interface Logger {
  info(message: string, detail?: unknown): void;
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

function line(level: string, message: string, detail: unknown): string {
  const extra = detail === undefined ? "" : ` ${detail instanceof Error ? detail.message : JSON.stringify(detail)}`;
  return `${new Date().toISOString()} bot ${level} ${message}${extra}`;
}

/** Logs to stderr. */
export const consoleLogger: Logger = {
  info: (m, d) => console.error(line("info", m, d)),
  warn: (m, d) => console.error(line("warn", m, d)),
  error: (m, d) => console.error(line("error", m, d)),
};

/** Logs nothing. */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
