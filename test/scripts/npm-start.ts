/**
 * `npm start` as an operator runs it — npm, its shell, the start script and what that starts — on
 * a free port and a state directory of the test's, with its console collected.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { sleep } from "../support/wait.js";

export const READY_LINE = "Press Ctrl-C to stop.";

export interface NpmStart {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Waits until the console shows `text`; throws if npm start exits first or time runs out. */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

export function npmStart(o: { stateDir: string; port: number; env?: Record<string, string>; ownGroup?: boolean }): NpmStart {
  const child = spawn("npm", ["start"], {
    env: { ...process.env, ALTIPLANO_PORT: String(o.port), ALTIPLANO_STATE_DIR: o.stateDir, ALTIPLANO_SIMS: "1", DISCORD_TOKEN: "", ...o.env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, like a terminal's foreground job, so a test can Ctrl-C the group.
    detached: o.ownGroup ?? false,
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const waitForOutput = async (text: string | RegExp, timeoutMs = 120_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    const seen = () => (typeof text === "string" ? out.includes(text) : text.test(out));
    while (!seen()) {
      if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}) before printing ${String(text)}:\n${out}`);
      if (Date.now() > deadline) throw new Error(`npm start did not print ${String(text)} within ${timeoutMs} ms:\n${out}`);
      await sleep(100);
    }
  };
  return { child, output: () => out, waitForOutput, exited };
}
