/**
 * One phase of load: `streams` conversation loops on a fresh key for a fixed time, an optional
 * fault in the middle, then the judgement — conversations read back against what the clients saw,
 * the key's limiter probed for leaked slots, recovery from the fault's end.
 */
import { checkStorage, countOutcomes, recoveryAfter, ttftPercentiles, type StoredMessage, type TurnRecord } from "./analysis.js";
import { conversationLoop, createConversation, probeConcurrency, readConversation, type Clock, type Target } from "./drive.js";
import type { PhaseResult } from "./report.js";
import { DEFAULT_MODEL_ID } from "../../scripts/stack.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const PROBE_MAX_TOKENS = 40;
const SETTLE_MS = 2_000;
/** Requests at once while creating or reading back conversations. */
const IO_PARALLEL = 16;

async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

export interface PhaseOptions {
  name: string;
  fault: string;
  url: string;
  /** Makes a key with this concurrency limit and no other limit. */
  createKey(maxConcurrent: number): Promise<string>;
  streams: number;
  maxTokens: number;
  /** Load before the fault, the fault, load after it (seconds); no fault when `faultS` is null. */
  leadS: number;
  faultS: number | null;
  tailS: number;
  idleTimeoutMs: number;
  /** Extra wait before reading back. */
  settleMs?: number;
  startFault?: () => Promise<void>;
  endFault?: () => Promise<void>;
  /** Leave this turn after its first token? */
  disconnectNow?: () => boolean;
  /** Called at the phase's start (after setup) and end (before read-back), e.g. to sample memory. */
  onLoadStart?: () => void;
  onLoadEnd?: () => void;
  log(line: string): void;
}

export async function runPhase(o: PhaseOptions): Promise<PhaseResult> {
  // Headroom over the streams: a slot freed by one turn is taken by the next a moment later.
  const limit = o.streams + Math.max(8, Math.ceil(o.streams / 10));
  const target: Target = { url: o.url, key: await o.createKey(limit) };
  const slug = o.name.replace(/\W+/g, "-");
  const ids = await inBatches(Array.from({ length: o.streams }, (_, i) => i), IO_PARALLEL, (i) => createConversation(target, `soak-${slug}-${Date.now()}-${i}`));
  const t0 = performance.now();
  const clock: Clock = () => performance.now() - t0;
  const durationMs = 1000 * (o.leadS + (o.faultS ?? 0) + o.tailS);
  const turns: TurnRecord[] = [];
  o.onLoadStart?.();
  const loops = ids.map((conversationId, i) =>
    conversationLoop({
      target,
      conversationId,
      label: `${slug} c${i}`,
      maxTokens: o.maxTokens,
      clock,
      stopAt: durationMs,
      idleTimeoutMs: o.idleTimeoutMs,
      disconnectNow: o.disconnectNow ?? (() => false),
      onTurn: (r) => void turns.push(r),
    }),
  );
  let faultEndAt: number | null = null;
  if (o.faultS !== null) {
    await sleep(1000 * o.leadS);
    o.log(`${o.name}: fault starts`);
    await o.startFault?.();
    await sleep(1000 * o.faultS);
    await o.endFault?.();
    faultEndAt = clock();
    o.log(`${o.name}: fault ends`);
  }
  await Promise.all(loops);
  const loadS = clock() / 1000;
  o.onLoadEnd?.();
  await sleep(SETTLE_MS + (o.settleMs ?? 0));
  const stored = new Map<string, StoredMessage[]>(await inBatches(ids, IO_PARALLEL, async (id) => [id, await readConversation(target, id)] as const));
  const probe = await probeConcurrency(target, DEFAULT_MODEL_ID, limit, PROBE_MAX_TOKENS);
  if (probe.otherErrors > 0) o.log(`${o.name}: ${probe.otherErrors} probe requests failed for other reasons than concurrency`);
  const outcomes = countOutcomes(turns);
  o.log(`${o.name}: ${outcomes.turns} turns, ${outcomes.complete} whole, ${outcomes.cleanErrors} clean errors, ${outcomes.broken} broken, ${outcomes.disconnected} left; leaked slots ${probe.refusedForConcurrency}`);
  return {
    name: o.name,
    fault: o.fault,
    streams: o.streams,
    durationS: loadS,
    outcomes,
    ttft: ttftPercentiles(turns.filter((t) => t.outcome !== "disconnected")),
    storage: checkStorage(turns, stored),
    leakedSlots: probe.refusedForConcurrency,
    recovery: faultEndAt === null ? null : recoveryAfter(turns, faultEndAt),
  };
}
