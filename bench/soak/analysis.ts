/**
 * The soak benchmark's pure arithmetic: what each streamed turn came to, whether the conversations
 * read back after the run hold exactly what was sent (one user message per accepted turn, one
 * assistant message per generation), percentiles of time to first token, and how long the
 * gateway took to recover after a fault. No I/O: the driver records, this judges.
 */
import { quantile } from "../lib/stats.js";

/**
 * How a turn ended, as its client saw it: `complete` (the whole stream, to `[DONE]`),
 * `clean-error` (an OpenAI-shaped error: a status with an `{"error":…}` body, or an `event: error`
 * frame that ends the stream), `broken` (anything else: a stream cut without an error, a frame
 * that is not JSON, no answer within the client's patience), `disconnected` (the client itself
 * left mid-stream, on purpose).
 */
export type TurnOutcome = "complete" | "clean-error" | "broken" | "disconnected";

export interface TurnRecord {
  conversationId: string;
  /** The user message sent; unique across the run, so the stored copy can be found. */
  content: string;
  /** ms on the run's clock. */
  startedAt: number;
  firstTokenAt: number | null;
  endedAt: number;
  /** HTTP status; 0 when no response head arrived. */
  status: number;
  outcome: TurnOutcome;
  /** The OpenAI error `code` of a clean error (or its type when there is no code). */
  errorCode: string | null;
  /** What went wrong with a broken turn, for the report. */
  brokenReason: string | null;
}

/** A stored message as GET /v1/conversations/{id} returns it (in order). */
export interface StoredMessage {
  role: string;
  content: string;
  status: string | null;
}

/** What reading every conversation back found, against what the clients saw. */
export interface StorageCheck {
  /** Turns the gateway accepted (status 200): each must be stored once with one reply. */
  acceptedTurns: number;
  /** Accepted turns whose user message is not stored. */
  userLost: number;
  /** Extra stored copies of a user message (a message stored twice counts 1). */
  userDuplicated: number;
  /** Refused turns (an error status) whose user message is stored anyway: a half-stored turn. */
  refusedButStored: number;
  /** Stored user messages of accepted turns with no assistant message after them. */
  assistantMissing: number;
  /** Extra assistant messages after one user message (one generation stored twice). */
  assistantDuplicated: number;
}

/** Compares the turns sent with the conversations as stored. */
export function checkStorage(turns: readonly TurnRecord[], stored: ReadonlyMap<string, readonly StoredMessage[]>): StorageCheck {
  const check: StorageCheck = { acceptedTurns: 0, userLost: 0, userDuplicated: 0, refusedButStored: 0, assistantMissing: 0, assistantDuplicated: 0 };
  // Per conversation: each user message's stored copies and the assistant messages after each copy.
  const index = new Map<string, Map<string, { copies: number; replies: number[] }>>();
  for (const [conversationId, messages] of stored) {
    const byContent = new Map<string, { copies: number; replies: number[] }>();
    let current: { copies: number; replies: number[] } | null = null;
    for (const m of messages) {
      if (m.role === "user") {
        current = byContent.get(m.content) ?? { copies: 0, replies: [] };
        current.copies++;
        current.replies.push(0);
        byContent.set(m.content, current);
      } else if (m.role === "assistant" && current !== null) {
        current.replies[current.replies.length - 1]!++;
      }
    }
    index.set(conversationId, byContent);
  }
  for (const turn of turns) {
    const entry = index.get(turn.conversationId)?.get(turn.content);
    const accepted = turn.status === 200;
    if (accepted) {
      check.acceptedTurns++;
      if (entry === undefined) {
        check.userLost++;
        continue;
      }
    } else if (turn.status !== 0 && entry !== undefined) {
      check.refusedButStored++;
    }
    // A turn whose answer never arrived (status 0) may or may not have been taken; only its copies are judged.
    if (entry === undefined) continue;
    check.userDuplicated += entry.copies - 1;
    for (const replies of entry.replies) {
      if (replies === 0 && accepted) check.assistantMissing++;
      if (replies > 1) check.assistantDuplicated += replies - 1;
    }
  }
  return check;
}

/** p50 and p99 in ms; NaN when there are no samples. */
export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
}

/** Time to first token of every turn that got one. */
export function ttftPercentiles(turns: readonly TurnRecord[]): Percentiles {
  const ttft = turns.filter((t) => t.firstTokenAt !== null).map((t) => t.firstTokenAt! - t.startedAt);
  return { count: ttft.length, p50: quantile(ttft, 0.5), p99: quantile(ttft, 0.99) };
}

/** How turns ended, counted. */
export interface OutcomeCounts {
  turns: number;
  complete: number;
  cleanErrors: number;
  broken: number;
  disconnected: number;
  /** Clean errors by OpenAI code. */
  errorCodes: Record<string, number>;
  /** Broken turns by reason. */
  brokenReasons: Record<string, number>;
}

export function countOutcomes(turns: readonly TurnRecord[]): OutcomeCounts {
  const counts: OutcomeCounts = { turns: turns.length, complete: 0, cleanErrors: 0, broken: 0, disconnected: 0, errorCodes: {}, brokenReasons: {} };
  for (const t of turns) {
    if (t.outcome === "complete") counts.complete++;
    else if (t.outcome === "disconnected") counts.disconnected++;
    else if (t.outcome === "clean-error") {
      counts.cleanErrors++;
      const code = t.errorCode ?? "unknown";
      counts.errorCodes[code] = (counts.errorCodes[code] ?? 0) + 1;
    } else {
      counts.broken++;
      const reason = t.brokenReason ?? "unknown";
      counts.brokenReasons[reason] = (counts.brokenReasons[reason] ?? 0) + 1;
    }
  }
  return counts;
}

/** Recovery after a fault, in ms from the fault's end; null when it cannot be told (see below). */
export interface Recovery {
  /**
   * From the fault's end to the first token of the first turn that started after it and completed
   * whole; null when none did.
   */
  firstSuccessMs: number | null;
  /**
   * From the fault's end until every turn started from then on completed: the start of the last
   * turn that did not (0 when none started after the fault's end failed). Null when turns were
   * still failing at the end of the run (no recovery seen).
   */
  allGoodMs: number | null;
}

/** Turns a client meant to end (disconnects) are neither failures nor successes here. */
export function recoveryAfter(turns: readonly TurnRecord[], faultEndAt: number): Recovery {
  const after = turns.filter((t) => t.startedAt >= faultEndAt && t.outcome !== "disconnected").sort((a, b) => a.startedAt - b.startedAt);
  const firstOk = after.find((t) => t.outcome === "complete");
  const firstSuccessMs = firstOk === undefined ? null : (firstOk.firstTokenAt ?? firstOk.endedAt) - faultEndAt;
  const lastBad = after.filter((t) => t.outcome !== "complete").at(-1);
  let allGoodMs: number | null = 0;
  if (lastBad !== undefined) {
    const okAfterLastBad = after.some((t) => t.startedAt > lastBad.startedAt && t.outcome === "complete");
    allGoodMs = okAfterLastBad ? lastBad.startedAt - faultEndAt : null;
  }
  return { firstSuccessMs, allGoodMs };
}

/** Resident memory at the start and end of a run, in MB, and its change. */
export interface MemoryDelta {
  startMb: number;
  endMb: number;
  changeMb: number;
  changeRatio: number;
}

export function memoryDelta(startBytes: number, endBytes: number): MemoryDelta {
  const startMb = startBytes / 2 ** 20;
  const endMb = endBytes / 2 ** 20;
  return { startMb, endMb, changeMb: endMb - startMb, changeRatio: startBytes > 0 ? (endBytes - startBytes) / startBytes : NaN };
}
