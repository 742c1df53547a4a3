/**
 * One `npm start` per state directory: the lock file with its pid, refused while that process
 * runs, taken over once it is gone.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { LOCK_FILE, lockStateDir, StateDirLocked } from "../../scripts/state-lock.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "altiplano-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited (pids are not reused this quickly). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

it("writes its pid, and releasing removes the file", () => {
  const release = lockStateDir(dir);
  expect(readFileSync(path.join(dir, LOCK_FILE), "utf8")).toBe(`${process.pid}\n`);
  release();
  expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
});

it("refuses while the holder runs, naming its pid and the way out", () => {
  // This test's own process holds it, on behalf of another pid that runs: our parent.
  writeFileSync(path.join(dir, LOCK_FILE), `${process.ppid}\n`);
  expect(() => lockStateDir(dir)).toThrow(StateDirLocked);
  expect(() => lockStateDir(dir)).toThrow(`Another \`npm start\` (pid ${process.ppid}) is already running on ${dir}. Stop it first`);
  expect(readFileSync(path.join(dir, LOCK_FILE), "utf8")).toBe(`${process.ppid}\n`);
});

it.each([
  { what: "a pid that no longer runs", content: () => `${deadPid()}\n` },
  { what: "garbage", content: () => "not a pid\n" },
  { what: "an empty file (a start killed while writing it)", content: () => "" },
])("takes over a stale lock: $what", ({ content }) => {
  writeFileSync(path.join(dir, LOCK_FILE), content());
  const release = lockStateDir(dir);
  expect(readFileSync(path.join(dir, LOCK_FILE), "utf8")).toBe(`${process.pid}\n`);
  release();
});

it("releasing does not remove a lock someone else has taken since", () => {
  const release = lockStateDir(dir);
  writeFileSync(path.join(dir, LOCK_FILE), `${process.ppid}\n`);
  release();
  expect(readFileSync(path.join(dir, LOCK_FILE), "utf8")).toBe(`${process.ppid}\n`);
});
