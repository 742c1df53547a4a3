/**
 * Settlements ride on the next admission to the same limiter. Every call to a limiter that
 * changes its state ends in a storage commit, and the commit, not the limiter's arithmetic, is
 * what a call costs: in local workerd a call that writes one row costs about 220 µs of CPU, one
 * that writes nothing 30 µs, and a row written inside a call 5 µs
 * (bench/results/storage-commit.md). A request used to cost two such calls, its admission
 * and its settlement; now its settlement waits in this isolate for up to SETTLE_DELAY_MS and is
 * normally carried by the next admission to the same object, which applies it first and then
 * decides, in one commit. Under load, or one connection sending request after request, nearly
 * every settlement is carried; a quiet limiter gets it on its own after the delay.
 *
 * Nothing is shared between requests but plain data: each waiting settlement is an entry whose
 * state the carrier updates, and the settling request watches its own entry on its own timers
 * (a promise resolved from another request's context is not something a Worker may rely on).
 * Settling is idempotent per lease, so a settlement whose fate is unclear is simply sent again.
 * The cost is that a concurrency slot can come free up to SETTLE_DELAY_MS later than before:
 * the limiter is briefly conservative, never lax.
 */
import { backoffDelayMs } from "../../wire/backoff.js";
import type { SettleInput } from "./types.js";

/** How long a settlement waits for an admission to carry it before it is sent on its own. */
export const SETTLE_DELAY_MS = 5;
/** How long a settling request watches a carried settlement before sending it again itself. */
const CARRIED_PATIENCE_MS = 1_000;
// About 11 s of retries (100 ms doubling, capped at 2 s): a limiter unreachable for a few seconds
// must not keep the slots of every request that ended meanwhile until their leases lapse
// (LIMIT_LEASE_TTL_SECONDS; bench/results/soak.md, "limiter failing").
const SEND_ATTEMPTS = 10;
const SEND_BACKOFF_MS = 100;
const SEND_BACKOFF_CAP_MS = 2_000;

type EntryState = "queued" | "carried" | "done";

interface Entry {
  input: SettleInput;
  state: EntryState;
}

/** Sends settlements to one limiter, however it is reached (an RPC stub in production). */
export type SendSettlements = (settles: SettleInput[]) => Promise<unknown>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One isolate's waiting settlements, per limiter object (by name). */
export class SettleQueue {
  private readonly waiting = new Map<string, Entry[]>();

  constructor(private readonly delayMs = SETTLE_DELAY_MS) {}

  /**
   * Settlements waiting for `name`, handed to an admission that carries them. Call `done` with
   * whether the admission (and so the settlements) reached the limiter.
   */
  carry(name: string): { settles: SettleInput[]; done(applied: boolean): void } {
    const entries = this.take(name);
    for (const e of entries) e.state = "carried";
    return {
      settles: entries.map((e) => e.input),
      done: (applied) => {
        for (const e of entries) e.state = applied ? "done" : "queued";
        // Not carried after all: back in line for the next admission or their own send.
        if (!applied && entries.length > 0) this.queueOf(name).push(...entries);
      },
    };
  }

  /**
   * Settles through the queue: resolves once the settlement has reached the limiter, whether an
   * admission carried it or it was sent from here. Never rejects (the lease's expiry is the
   * backstop for a limiter that cannot be reached).
   */
  async settle(name: string, input: SettleInput, send: SendSettlements): Promise<void> {
    const entry: Entry = { input, state: "queued" };
    this.queueOf(name).push(entry);
    const patienceEnds = Date.now() + CARRIED_PATIENCE_MS;
    for (;;) {
      await sleep(this.delayMs);
      if (entry.state === "done") return;
      if (entry.state === "carried" && Date.now() < patienceEnds) continue;
      // Still waiting (or carried for too long: idempotent, so sent again): send what waits here.
      const entries = entry.state === "queued" ? this.take(name) : [entry];
      for (const e of entries) e.state = "carried";
      const sent = await sendWithRetries(send, entries.map((e) => e.input));
      for (const e of entries) e.state = "done";
      if (!sent) console.error("rate limiter settle failed; the leases will expire by themselves", { name, settles: entries.length });
      return;
    }
  }

  private queueOf(name: string): Entry[] {
    let q = this.waiting.get(name);
    if (q === undefined) this.waiting.set(name, (q = []));
    return q;
  }

  private take(name: string): Entry[] {
    const q = this.waiting.get(name);
    if (q === undefined || q.length === 0) return [];
    this.waiting.delete(name);
    return q;
  }
}

async function sendWithRetries(send: SendSettlements, settles: SettleInput[]): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await send(settles);
      return true;
    } catch (err) {
      if (attempt >= SEND_ATTEMPTS) {
        console.error("rate limiter settle failed", { error: String(err) });
        return false;
      }
      await sleep(backoffDelayMs({ attempt, baseMs: SEND_BACKOFF_MS, maxMs: SEND_BACKOFF_CAP_MS }));
    }
  }
}
