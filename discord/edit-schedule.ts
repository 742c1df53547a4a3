/**
 * When to push the next edit of a streaming reply. Pure: Discord allows about five edits per five
 * seconds per channel, so edits are spaced by at least the configured interval; the first text
 * and the final text go out as soon as allowed.
 */

export interface EditScheduleInput {
  nowMs: number;
  /** When the last edit was sent, or null if none yet. */
  lastEditAtMs: number | null;
  intervalMs: number;
  /** Whether the text shown differs from the text generated so far. */
  hasPendingChange: boolean;
  /** Whether an edit is in flight (edits are sent one at a time, in order). */
  isEditInFlight: boolean;
}

/** "now", "wait" for `delayMs`, or "idle" when nothing needs sending. */
export type EditDecision = { kind: "now" } | { kind: "wait"; delayMs: number } | { kind: "idle" };

/** Decides whether to edit now, later, or not at all. */
export function decideEdit(input: EditScheduleInput): EditDecision {
  if (!input.hasPendingChange) return { kind: "idle" };
  // The in-flight edit's completion will call again; stacking edits would reorder them.
  if (input.isEditInFlight) return { kind: "idle" };
  if (input.lastEditAtMs === null) return { kind: "now" };
  const dueAtMs = input.lastEditAtMs + input.intervalMs;
  if (input.nowMs >= dueAtMs) return { kind: "now" };
  return { kind: "wait", delayMs: dueAtMs - input.nowMs };
}
