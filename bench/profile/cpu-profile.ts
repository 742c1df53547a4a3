/**
 * Reads a V8 CPU profile (the inspector's Profiler.stop result, also the .cpuprofile format) into
 * the two tables worth reading: where time is spent (self) and what it is spent under (inclusive),
 * by function. Pure; bench/profile.ts does the I/O.
 */

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  /** Microseconds since the previous sample, one per sample. */
  timeDeltas?: number[];
}

export interface FunctionTime {
  /** "name (file:line)", or V8's own "(garbage collector)", "(program)", "(idle)". */
  name: string;
  selfMs: number;
  inclusiveMs: number;
}

export interface ProfileSummary {
  /** Wall time the profile covers. */
  totalMs: number;
  /** Not running JavaScript or V8 work: the thread waited for I/O. */
  idleMs: number;
  /** V8 outside any JavaScript function (compiling, the runtime's own C++ between calls). */
  programMs: number;
  gcMs: number;
  /** Time in JavaScript functions (everything else). */
  jsMs: number;
  functions: FunctionTime[];
}

const V8_PSEUDO = new Set(["(root)", "(idle)", "(program)", "(garbage collector)"]);

function frameName(node: CpuProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const fn = functionName === "" ? "(anonymous)" : functionName;
  if (V8_PSEUDO.has(fn) || url === "") return fn;
  const file = url.slice(url.lastIndexOf("/") + 1);
  return `${fn} (${file}:${lineNumber + 1})`;
}

/** Self and inclusive time per function, heaviest first by self time. */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // A sample's delta is the time since the one before it; the next delta is the time this one
    // stood for, which is what a sampling profiler charges to the sampled stack.
    const us = deltas[i + 1] ?? 0;
    if (us <= 0) continue;
    const leaf = byId.get(samples[i]!);
    if (!leaf) continue;
    const leafName = frameName(leaf);
    self.set(leafName, (self.get(leafName) ?? 0) + us);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const name = frameName(byId.get(id)!);
      if (name === "(root)" || seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const ms = (us: number | undefined): number => (us ?? 0) / 1000;
  const functions = [...inclusive.keys()]
    .map((name) => ({ name, selfMs: ms(self.get(name)), inclusiveMs: ms(inclusive.get(name)) }))
    .sort((a, b) => b.selfMs - a.selfMs || b.inclusiveMs - a.inclusiveMs);
  const idleMs = ms(self.get("(idle)"));
  const programMs = ms(self.get("(program)"));
  const gcMs = ms(self.get("(garbage collector)"));
  const sampledMs = [...self.values()].reduce((a, b) => a + b, 0) / 1000;
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    idleMs,
    programMs,
    gcMs,
    jsMs: sampledMs - idleMs - programMs - gcMs,
    functions,
  };
}
