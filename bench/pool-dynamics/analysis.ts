/**
 * The pool-dynamics benchmark's arithmetic, kept pure (records in, figures out) so it is tested
 * by tables (test/e2e/pool-dynamics-analysis.test.ts). Times are ms since the epoch.
 */

/** One client request as the load generator saw it. */
export interface RequestRecord {
  /** The conversation of a turn; null for a plain chat completion. */
  conversationId: string | null;
  startedAt: number;
  endedAt: number;
  /** HTTP status, or 0 when the request failed without one (connection error, broken body). */
  status: number;
  /** x-altiplano-worker of the answer. */
  worker: string | null;
  /** For a failed request: the OpenAI error code, `http-<status>`, or the client-side error's name. */
  error?: string;
}

/** Pure: how many failed requests had each error, e.g. {"overloaded": 2}. */
export function errorCounts(records: readonly RequestRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of records) if (isClientError(r)) counts[r.error ?? `http-${r.status}`] = (counts[r.error ?? `http-${r.status}`] ?? 0) + 1;
  return counts;
}

/** Whether a client saw an error: anything but a whole 200 answer. */
export function isClientError(r: RequestRecord): boolean {
  return r.status !== 200;
}

/** Figures of one kill: how long traffic kept reaching the dead worker, and what it cost. */
export interface KillFigures {
  /**
   * From the kill to the first moment after which no request was routed to the dead worker and
   * none failed over from it: the last connection attempt on its address, or 0 when the only
   * casualties were the requests cut at the kill itself.
   */
  noTrafficAfterMs: number;
  /** Requests that had to fail over: cut mid-answer at the kill, plus attempts on the dead address. */
  failovers: number;
  cutInFlight: number;
  deadAttempts: number;
  /** Requests started in the window from the kill to `windowEnd` … */
  requestsInWindow: number;
  /** … and those of them that a client saw fail. */
  clientErrors: number;
  /** Slowest request in that window, to show what a failover costs a client. */
  maxLatencyInWindowMs: number;
}

/** Pure: the figures of one kill from the tap's log and the client records. */
export function killFigures(o: {
  killedAt: number;
  windowEnd: number;
  cutInFlight: number;
  deadAttempts: readonly number[];
  requests: readonly RequestRecord[];
}): KillFigures {
  const attempts = o.deadAttempts.filter((t) => t >= o.killedAt);
  const last = attempts.length === 0 ? o.killedAt : Math.max(...attempts);
  // A request still running at the kill may be the one that was cut, so it belongs to the window.
  const inWindow = o.requests.filter((r) => r.endedAt >= o.killedAt && r.startedAt <= o.windowEnd);
  return {
    noTrafficAfterMs: last - o.killedAt,
    failovers: o.cutInFlight + attempts.length,
    cutInFlight: o.cutInFlight,
    deadAttempts: attempts.length,
    requestsInWindow: inWindow.length,
    clientErrors: inWindow.filter(isClientError).length,
    maxLatencyInWindowMs: inWindow.reduce((max, r) => Math.max(max, r.endedAt - r.startedAt), 0),
  };
}

/** How one conversation's turns spread over workers. */
export interface AffinityFigures {
  conversations: number;
  turns: number;
  /** Turns answered by their conversation's most frequent worker, over all turns. */
  overallShare: number;
  /** The same share for the least sticky conversation. */
  minConversationShare: number;
  /** Conversations whose turns all landed on one worker. */
  conversationsOnOneWorker: number;
  /** Consecutive turn pairs of a conversation on the same worker, over all such pairs. */
  consecutiveSameShare: number;
  /** Conversations whose most frequent worker is each worker: the spread of load. */
  conversationsByWorker: Record<string, number>;
}

/** Pure: affinity figures from the answering worker of each turn, in order, per conversation. */
export function affinityFigures(workersByConversation: ReadonlyMap<string, readonly string[]>): AffinityFigures {
  let turns = 0;
  let modalTurns = 0;
  let minShare = 1;
  let onOne = 0;
  let pairs = 0;
  let samePairs = 0;
  const byWorker: Record<string, number> = {};
  for (const workers of workersByConversation.values()) {
    if (workers.length === 0) continue;
    const counts = new Map<string, number>();
    for (const w of workers) counts.set(w, (counts.get(w) ?? 0) + 1);
    // Counts keep first-appearance order, so a tie goes to the worker that answered first.
    let modal = workers[0]!;
    let modalCount = 0;
    for (const [w, count] of counts) {
      if (count > modalCount) [modal, modalCount] = [w, count];
    }
    byWorker[modal] = (byWorker[modal] ?? 0) + 1;
    turns += workers.length;
    modalTurns += modalCount;
    minShare = Math.min(minShare, modalCount / workers.length);
    if (counts.size === 1) onOne++;
    for (let i = 1; i < workers.length; i++) {
      pairs++;
      if (workers[i] === workers[i - 1]) samePairs++;
    }
  }
  const conversations = [...workersByConversation.values()].filter((w) => w.length > 0).length;
  return {
    conversations,
    turns,
    overallShare: turns === 0 ? 0 : modalTurns / turns,
    minConversationShare: conversations === 0 ? 0 : minShare,
    conversationsOnOneWorker: onOne,
    consecutiveSameShare: pairs === 0 ? 0 : samePairs / pairs,
    conversationsByWorker: Object.fromEntries(Object.entries(byWorker).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

/** Median (mean of the middle two for an even count), min and max. */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

/** Pure: summary of a list of numbers; NaNs for an empty list. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { n: sorted.length, median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}
