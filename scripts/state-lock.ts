/**
 * One `npm start` per state directory: two workerd processes on one local D1 end in a stack trace
 * and later SQLITE_BUSY. The lock is a file holding the owner's pid, created exclusively; a lock
 * whose pid no longer runs (a start that was killed outright) is stale and taken over.
 */
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";

export const LOCK_FILE = "npm-start.pid";

export class StateDirLocked extends Error {
  override readonly name = "StateDirLocked";
  constructor(
    readonly stateDir: string,
    readonly pid: number,
  ) {
    super(
      `Another \`npm start\` (pid ${pid}) is already running on ${stateDir}. ` +
        `Stop it first (Ctrl-C in its terminal, or kill ${pid}), or give this one its own state with ALTIPLANO_STATE_DIR.`,
    );
  }
}

/** Whether a process with this pid exists (EPERM: it does, someone else's). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Takes the state directory for this process; throws StateDirLocked if a live process holds it. Returns the release function. */
export function lockStateDir(stateDir: string, pid = process.pid): () => void {
  const file = path.join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${pid}\n`, { flag: "wx", mode: 0o600 });
      return () => {
        if (readPid(file) === pid) unlinkSync(file);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = readPid(file);
    if (holder !== null && holder !== pid && isRunning(holder)) throw new StateDirLocked(stateDir, holder);
    // Stale (its process is gone) or unreadable: take it over.
    try {
      unlinkSync(file);
    } catch {
      // someone else removed it first; the next attempt decides
    }
  }
  throw new Error(`could not take the lock ${file}`);
}
