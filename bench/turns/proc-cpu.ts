/**
 * CPU time of the processes a benchmark started, read from Linux /proc: processes found in this
 * process's tree (workerd is Miniflare's child, the simulator spawnNode's), their CPU summed over
 * every thread from /proc/<pid>/task/<tid>/schedstat, which counts nanoseconds (stat's utime and
 * stime tick in 10 ms, too coarse for one turn).
 */
import { readdirSync, readFileSync } from "node:fs";

interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string;
}

function readProc(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm may hold spaces and parentheses: it runs from the first "(" to the last ")".
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
    return { pid, ppid: Number(fields[1]), comm, cmdline };
  } catch {
    return null; // exited while we looked
  }
}

/** Every live process below `root` (children, grandchildren, …). */
export function descendants(root: number = process.pid): ProcInfo[] {
  const all = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map((d) => readProc(Number(d))).filter((p): p is ProcInfo => p !== null);
  const children = new Map<number, ProcInfo[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found: ProcInfo[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** The one descendant matching `test`; throws when there is none or more than one. */
export function findDescendant(what: string, test: (p: ProcInfo) => boolean): number {
  const matches = descendants().filter(test);
  if (matches.length !== 1) throw new Error(`expected one ${what} process below pid ${process.pid}, found ${matches.length}`);
  return matches[0]!.pid;
}

/** CPU time of `pid` so far, all threads, in ms (threads that already exited are not counted). */
export function processCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return ns / 1e6;
}

/** Whether this machine can measure: Linux with schedstat. */
export function canMeasureCpu(): boolean {
  try {
    readFileSync(`/proc/${process.pid}/schedstat`, "utf8");
    return true;
  } catch {
    return false;
  }
}
