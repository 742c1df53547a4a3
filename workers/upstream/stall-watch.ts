/**
 * Notices a worker that stops sending mid-answer. Only time spent waiting on the worker counts
 * (not time the caller spends relaying what it sent), and it costs one timer per stall period
 * instead of one per read: a relay reads a chunk per token, so arming a timer for every read
 * was a measurable share of the gateway's CPU (about 5 % in a profile at 16 concurrent streams).
 */
export class StallWatch {
  #waitingSinceMs: number | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  constructor(
    private readonly stallMs: number,
    private readonly onStall: () => void,
  ) {}

  /** A read from the worker starts. */
  waiting(): void {
    this.#waitingSinceMs = Date.now();
    if (this.#timer === null && !this.#stopped) this.#arm(this.stallMs);
  }

  /** The read completed; the caller works on what it got. */
  received(): void {
    this.#waitingSinceMs = null;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => this.#check(), delayMs);
  }

  #check(): void {
    this.#timer = null;
    if (this.#stopped) return;
    // Not waiting right now: the next waiting() re-arms.
    if (this.#waitingSinceMs === null) return;
    const waitedMs = Date.now() - this.#waitingSinceMs;
    if (waitedMs >= this.stallMs) {
      this.stop();
      this.onStall();
    } else this.#arm(this.stallMs - waitedMs);
  }
}
