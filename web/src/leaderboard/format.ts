/**
 * The leaderboard's numbers in words and colours: ratings and their interval as whole points, win
 * fractions as two decimals, the colour step of a fraction (the page's CSP allows no inline style,
 * so a cell's colour is one of eleven classes, `wf-0` … `wf-10`), and the votes sentence.
 */
import type { ArenaLeaderboard } from "../api/arena-schemas.js";

const MINUS = "\u2212";

/** Whole points, with a real minus sign; never "-0". */
export function formatPoints(value: number): string {
  const rounded = Math.round(value);
  if (rounded === 0) return "0";
  return rounded < 0 ? `${MINUS}${-rounded}` : String(rounded);
}

/** The 95 % interval as "low–high" whole points. */
export function formatInterval(low: number, high: number): string {
  return `${formatPoints(low)}\u2013${formatPoints(high)}`;
}

/** A win fraction as two decimals ("0.63"); "—" for a pair that never met. */
export function formatFraction(fraction: number | null): string {
  if (fraction === null || !Number.isFinite(fraction)) return "\u2014";
  return Math.min(1, Math.max(0, fraction)).toFixed(2);
}

/** The colour step 0…10 of a fraction (0 lost every battle, 5 even, 10 won every one); null for none. */
export function fractionStep(fraction: number | null): number | null {
  if (fraction === null || !Number.isFinite(fraction)) return null;
  return Math.round(Math.min(1, Math.max(0, fraction)) * 10);
}

const plural = (n: number, one: string, many: string): string => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** "12 votes counted of 15; 3 dropped: 2 where a model named itself, 1 over a voter's daily cap." */
export function votesSentence(board: Pick<ArenaLeaderboard, "votes_total" | "votes_counted" | "votes_dropped">): string {
  const { identity_leak: leaked, voter_cap: capped } = board.votes_dropped;
  const dropped = leaked + capped;
  const counted = `${plural(board.votes_counted, "vote", "votes")} counted of ${board.votes_total.toLocaleString("en-US")}`;
  if (dropped === 0) return `${counted}; none dropped.`;
  const why: string[] = [];
  if (leaked > 0) why.push(`${leaked.toLocaleString("en-US")} where a model named itself`);
  if (capped > 0) why.push(`${capped.toLocaleString("en-US")} over a voter's daily cap`);
  return `${counted}; ${dropped.toLocaleString("en-US")} dropped: ${why.join(", ")}.`;
}

/** A judge's score as the page shows it: a mean rating "7.4 / 10", or an adjusted win rate "62 %"; "–" when there is none. */
export function formatJudgeScore(mode: "single" | "pairwise", score: number | null | undefined): string {
  if (score === null || score === undefined || !Number.isFinite(score)) return "\u2013";
  return mode === "single" ? `${score.toFixed(1)} / 10` : `${Math.round(score * 100)} %`;
}

/** A cell's description for its title: "vicuna-13b won 0.63 of 8 battles against vicuna-7b". */
export function cellTitle(row: string, column: string, fraction: number | null, battles: number): string {
  if (fraction === null || battles === 0) return `${row} and ${column} have not met`;
  return `${row} won ${formatFraction(fraction)} of ${plural(battles, "battle", "battles")} against ${column} (ties count half)`;
}
