/**
 * The calibration workload, drawn exactly as the cluster simulation draws it: the same session
 * arrival times (Poisson, from the "arrivals" stream of the seed) and the same sessions in arrival
 * order (the cluster's own Workload on the "workload" stream). Pure.
 */
import { getPromptFamily } from "../../workers/prompt/index.js";
import type { ClusterConfig } from "../cluster/config.js";
import { deriveSeed, exponential, seededRandom } from "../cluster/rng.js";
import { Workload, type SessionSpec } from "../cluster/workload.js";
import { textOfTokens } from "./text.js";

/** Vicuna's default system line, which every shared app prompt follows. */
const VICUNA_V11_SYSTEM = getPromptFamily("vicuna_v1.1").defaultSystem!;

// The cluster workload's token-id layout of shared app prompts (bench/cluster/workload.ts).
const SHARED_SYSTEM_FIRST_TOKEN = 1_000;
const SHARED_SYSTEM_STRIDE = 100_000;

export interface PlannedSession {
  /** Arrival time from the start of the run. */
  atMs: number;
  spec: SessionSpec;
  /** The conversation's system prompt: null = Vicuna's default system line; else default + shared app prompt. */
  systemPrompt: string | null;
}

/** Which shared app prompt a session uses (index), or null for the default system line only. */
export function sharedPromptIndex(spec: SessionSpec, config: ClusterConfig): number | null {
  if (spec.systemTokens.length <= config.defaultSystemTokens) return null;
  const first = spec.systemTokens[config.defaultSystemTokens]!;
  return Math.round((first - SHARED_SYSTEM_FIRST_TOKEN) / SHARED_SYSTEM_STRIDE);
}

/** The sessions arriving before config.durationS at `sessionsPerS`, as the simulation would start them. */
export function planSessions(config: ClusterConfig, sessionsPerS: number): PlannedSession[] {
  const arrivals = seededRandom(deriveSeed(config.seed, "arrivals"));
  const workload = new Workload({ config, random: seededRandom(deriveSeed(config.seed, "workload")) });
  const appPrompts = Array.from({ length: config.sharedSystemPrompts }, (_, k) =>
    textOfTokens(config.sharedSystemPromptTokens, seededRandom(deriveSeed(config.seed, `app-prompt:${k}`))),
  );
  const out: PlannedSession[] = [];
  let atMs = 0;
  for (;;) {
    atMs += exponential(arrivals, 1000 / sessionsPerS);
    if (atMs >= config.durationS * 1000) return out;
    const spec = workload.nextSession();
    const shared = sharedPromptIndex(spec, config);
    out.push({ atMs, spec, systemPrompt: shared === null ? null : `${VICUNA_V11_SYSTEM} ${appPrompts[shared]}` });
  }
}
