/**
 * The dashboard's numbers as text: shares, rates, counts, ages and durations. Pure, so the table
 * tests in test/web/dashboard-format.test.ts pin every rounding and unit.
 */

const MINUS = "\u2212";
const DASH = "\u2014";

function finite(value: number | null | undefined): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** A 0..1 share as a whole percentage ("42 %"); below 1 % but above 0 shows "<1 %". */
export function formatShare(fraction: number | null | undefined): string {
  if (!finite(fraction)) return DASH;
  const clamped = Math.min(1, Math.max(0, fraction));
  if (clamped > 0 && clamped < 0.005) return "<1 %";
  return `${Math.round(clamped * 100)} %`;
}

/**
 * A count, grouped in thousands with a thin space under 10 000 and abbreviated above
 * ("1 234", "12.3 k", "4.5 M"): a narrow table cell on a phone holds it.
 */
export function formatCount(value: number | null | undefined): string {
  if (!finite(value)) return DASH;
  const sign = value < 0 ? MINUS : "";
  const n = Math.abs(Math.round(value));
  if (n < 10_000) return sign + String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "\u2009");
  if (n < 1_000_000) return `${sign}${trimZero((n / 1_000).toFixed(n < 100_000 ? 1 : 0))} k`;
  if (n < 1_000_000_000) return `${sign}${trimZero((n / 1_000_000).toFixed(n < 100_000_000 ? 1 : 0))} M`;
  return `${sign}${trimZero((n / 1_000_000_000).toFixed(1))} G`;
}

function trimZero(text: string): string {
  return text.replace(/\.0$/, "");
}

/** Tokens per second: one decimal under 100, whole above ("7.5 tok/s", "1 234 tok/s"). */
export function formatTokensPerSecond(value: number | null | undefined): string {
  if (!finite(value)) return DASH;
  const v = Math.max(0, value);
  return v < 100 ? `${trimZero(v.toFixed(1))} tok/s` : `${formatCount(v)} tok/s`;
}

/** A duration in milliseconds: "850 ms" under a second, "1.2 s" under a minute, then "3 min 5 s". */
export function formatDuration(ms: number | null | undefined): string {
  if (!finite(ms)) return DASH;
  const v = Math.max(0, ms);
  if (v < 1_000) return `${Math.round(v)} ms`;
  if (v < 10_000) return `${trimZero((v / 1_000).toFixed(1))} s`;
  if (v < 60_000) return `${Math.round(v / 1_000)} s`;
  const minutes = Math.floor(v / 60_000);
  if (minutes < 60) {
    const seconds = Math.floor((v % 60_000) / 1_000);
    return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`;
  }
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** How long ago a heartbeat came: "now" within a quarter second, else the duration and "ago". */
export function formatAge(ms: number | null | undefined): string {
  if (!finite(ms)) return DASH;
  if (ms < 250) return "now";
  return `${formatDuration(ms)} ago`;
}

/** A bucket's start on the chart's axis and in tables: "14:05" (local time, 24 h). */
export function formatClock(epochMs: number, options: { seconds?: boolean } = {}): string {
  const date = new Date(epochMs);
  const pad = (n: number): string => String(n).padStart(2, "0");
  const base = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return options.seconds === true ? `${base}:${pad(date.getSeconds())}` : base;
}
