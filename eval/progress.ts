/**
 * What a run shows while it works: a progress bar per phase with counts and an estimate of the
 * time left (from this run's own pace), the tokens spent on answers and on the judge, and what
 * the judge has cost at the configured prices. On a terminal the line is redrawn in place; in a
 * log (CI, a pipe) a line is printed every few seconds instead.
 */

export type Phase = "answers" | "judgments";

export interface Prices {
  /** US dollars per million tokens the judge reads. */
  judgeInputPerMillion: number;
  /** US dollars per million tokens the judge writes. */
  judgeOutputPerMillion: number;
}

interface PhaseState {
  total: number;
  /** Done before this run started (resumed). */
  already: number;
  done: number;
  startedAt: number;
  promptTokens: number;
  completionTokens: number;
}

/** "1h02m", "3m05s", "12s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** Time left at this run's pace so far; null until something was done. */
export function estimateLeftMs(doneThisRun: number, remaining: number, elapsedMs: number): number | null {
  if (doneThisRun === 0) return null;
  return (elapsedMs / doneThisRun) * remaining;
}

export function judgeCost(prices: Prices, promptTokens: number, completionTokens: number): number {
  return (promptTokens * prices.judgeInputPerMillion + completionTokens * prices.judgeOutputPerMillion) / 1_000_000;
}

const compact = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(n));

export class Tally {
  private readonly phases = new Map<Phase, PhaseState>();
  private current: Phase | null = null;
  private unparsedCount = 0;
  private lastLineAt = 0;

  constructor(
    private readonly prices: Prices,
    private readonly out: { isTTY?: boolean; write(text: string): unknown } | null,
    private readonly now: () => number = Date.now,
  ) {}

  phase(phase: Phase, total: number, already: number): void {
    this.phases.set(phase, { total, already, done: 0, startedAt: this.now(), promptTokens: 0, completionTokens: 0 });
    this.current = phase;
    this.render(true);
  }

  tokens(phase: Phase, promptTokens: number, completionTokens: number): void {
    const p = this.phases.get(phase);
    if (!p) return;
    p.promptTokens += promptTokens;
    p.completionTokens += completionTokens;
  }

  done(phase: Phase): void {
    const p = this.phases.get(phase);
    if (!p) return;
    p.done++;
    this.render(p.already + p.done === p.total);
  }

  unparsed(): void {
    this.unparsedCount++;
  }

  /** Tokens and judge cost of this run so far. */
  totals(): { answerTokens: number; judgeTokens: number; judgeCostUsd: number; unparsed: number } {
    const a = this.phases.get("answers");
    const j = this.phases.get("judgments");
    return {
      answerTokens: (a?.promptTokens ?? 0) + (a?.completionTokens ?? 0),
      judgeTokens: (j?.promptTokens ?? 0) + (j?.completionTokens ?? 0),
      judgeCostUsd: j ? judgeCost(this.prices, j.promptTokens, j.completionTokens) : 0,
      unparsed: this.unparsedCount,
    };
  }

  /** The status line, e.g. "judgments [#####·····] 120/320 · 2m10s left · answers 40.1k tok · judge 12.0k tok $0.0312 · 1 unparsed". */
  line(): string {
    const phase = this.current;
    const p = phase ? this.phases.get(phase) : undefined;
    if (!phase || !p) return "";
    const finished = p.already + p.done;
    const width = 20;
    const filled = p.total === 0 ? width : Math.round((finished / p.total) * width);
    const left = estimateLeftMs(p.done, p.total - finished, this.now() - p.startedAt);
    const t = this.totals();
    return [
      `${phase} [${"#".repeat(filled)}${"·".repeat(width - filled)}] ${finished}/${p.total}`,
      finished === p.total ? "done" : left === null ? "estimating…" : `${formatDuration(left)} left`,
      `answers ${compact(t.answerTokens)} tok`,
      `judge ${compact(t.judgeTokens)} tok $${t.judgeCostUsd.toFixed(4)}`,
      ...(t.unparsed > 0 ? [`${t.unparsed} unparsed`] : []),
    ].join(" · ");
  }

  private render(force: boolean): void {
    if (!this.out) return;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${this.line()}${force && this.isLastOfPhase() ? "\n" : ""}`);
      return;
    }
    const now = this.now();
    if (!force && now - this.lastLineAt < 5_000) return;
    this.lastLineAt = now;
    this.out.write(`${this.line()}\n`);
  }

  private isLastOfPhase(): boolean {
    const p = this.current ? this.phases.get(this.current) : undefined;
    return p !== undefined && p.already + p.done === p.total;
  }
}
