/**
 * Dependency-free SVG charts for benchmark reports: line charts (one line per series over a numeric
 * x axis, linear or log y) and grouped bar charts. Output is a standalone SVG string that a
 * Markdown file can embed with ![](file.svg).
 */

/** A colour-blind-friendly palette (Okabe–Ito), in series order. */
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];

const WIDTH_PX = 720;
const HEIGHT_PX = 420;
const MARGIN = { top: 48, right: 170, bottom: 56, left: 72 };
const FONT = `font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"`;

/** One line: points in x order; non-finite y values leave a gap. */
export interface LineSeries {
  name: string;
  points: readonly { x: number; y: number }[];
  /** Drawn thicker: the series the chart is about. */
  emphasis?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  yScale?: "linear" | "log";
  /** Formats tick labels (defaults to a compact number). */
  xFormat?: (v: number) => string;
  yFormat?: (v: number) => string;
  /** Forces the y range, e.g. [0, 1] for ratios. */
  yDomain?: readonly [number, number];
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  categories: readonly string[];
  /** One bar per category per group; values aligned with `categories`. */
  groups: readonly { name: string; values: readonly number[] }[];
  yFormat?: (v: number) => string;
}

/** Escapes text for SVG element content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A compact number label: 1.5k, 12, 0.25. */
export function compactNumber(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${trim(v / 1e6)}M`;
  if (abs >= 1e3) return `${trim(v / 1e3)}k`;
  return trim(v);
}

function trim(v: number): string {
  return Number(v.toPrecision(3)).toString();
}

/** Round tick values (1, 2, 5 × 10^k) covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const rough = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Powers of ten (and 2×, 5× when few decades) covering [lo, hi] for a log axis. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const decades = Math.log10(hi) - Math.log10(lo);
  const multipliers = decades <= 2 ? [1, 2, 5] : [1];
  for (let p = Math.floor(Math.log10(lo)); p <= Math.ceil(Math.log10(hi)); p++) {
    for (const m of multipliers) {
      const t = m * 10 ** p;
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push(t);
    }
  }
  return ticks;
}

interface Frame {
  plotW: number;
  plotH: number;
  parts: string[];
}

function frame(title: string): Frame {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH_PX}" height="${HEIGHT_PX}" viewBox="0 0 ${WIDTH_PX} ${HEIGHT_PX}" ${FONT} font-size="12">`,
    `<rect width="${WIDTH_PX}" height="${HEIGHT_PX}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="26" font-size="15" font-weight="600" fill="#222">${escapeXml(title)}</text>`,
  ];
  return { plotW: WIDTH_PX - MARGIN.left - MARGIN.right, plotH: HEIGHT_PX - MARGIN.top - MARGIN.bottom, parts };
}

function legend(parts: string[], entries: readonly { name: string; color: string; bold?: boolean }[]): void {
  const x = WIDTH_PX - MARGIN.right + 16;
  entries.forEach((e, i) => {
    const y = MARGIN.top + 8 + i * 20;
    parts.push(`<rect x="${x}" y="${y - 6}" width="14" height="4" fill="${e.color}"/>`);
    parts.push(`<text x="${x + 20}" y="${y}" fill="#222"${e.bold === true ? ` font-weight="700"` : ""}>${escapeXml(e.name)}</text>`);
  });
}

function yAxis(parts: string[], o: { plotW: number; ticks: readonly number[]; toY: (v: number) => number; format: (v: number) => string; label: string; plotH: number }): void {
  for (const t of o.ticks) {
    const y = o.toY(t);
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + o.plotW}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#555">${escapeXml(o.format(t))}</text>`);
  }
  const cy = MARGIN.top + o.plotH / 2;
  parts.push(`<text transform="translate(18 ${cy}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(o.label)}</text>`);
}

/** A line chart with markers, one line per series, legend on the right. */
export function lineChart(o: LineChartOptions): string {
  const { plotW, plotH, parts } = frame(o.title);
  const xFormat = o.xFormat ?? compactNumber;
  const yFormat = o.yFormat ?? compactNumber;
  const log = o.yScale === "log";
  const all = o.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!log || p.y > 0));
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const xLo = xs.length > 0 ? Math.min(...xs) : 0;
  const xHi = xs.length > 0 ? Math.max(...xs) : 1;
  let yLo = o.yDomain?.[0] ?? (log ? Math.min(...ys) : Math.min(0, ...ys));
  let yHi = o.yDomain?.[1] ?? Math.max(...ys);
  if (!Number.isFinite(yLo) || !Number.isFinite(yHi)) [yLo, yHi] = log ? [1, 10] : [0, 1];
  if (log) {
    yLo = 10 ** Math.floor(Math.log10(yLo));
    yHi = 10 ** Math.ceil(Math.log10(yHi));
  }
  const yTicks = log ? logTicks(yLo, yHi) : niceTicks(yLo, yHi);
  if (!log && o.yDomain === undefined) yHi = Math.max(yHi, yTicks[yTicks.length - 1] ?? yHi);
  const xSpan = xHi > xLo ? xHi - xLo : 1;
  const toX = (v: number): number => MARGIN.left + ((v - xLo) / xSpan) * plotW;
  const toY = log
    ? (v: number): number => MARGIN.top + plotH - ((Math.log10(v) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo) || 1)) * plotH
    : (v: number): number => MARGIN.top + plotH - ((v - yLo) / (yHi - yLo || 1)) * plotH;

  yAxis(parts, { plotW, plotH, ticks: yTicks, toY, format: yFormat, label: o.yLabel });
  const xTicks = [...new Set(xs)].sort((a, b) => a - b);
  const shownX = xTicks.length <= 12 ? xTicks : niceTicks(xLo, xHi, 8);
  for (const t of shownX) {
    const x = toX(t);
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 5}" stroke="#888"/>`);
    parts.push(`<text x="${x.toFixed(1)}" y="${MARGIN.top + plotH + 19}" text-anchor="middle" fill="#555">${escapeXml(xFormat(t))}</text>`);
  }
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#888"/>`);
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT_PX - 14}" text-anchor="middle" fill="#333">${escapeXml(o.xLabel)}</text>`);

  o.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const width = s.emphasis === true ? 3 : 1.75;
    let path = "";
    let pen = false;
    for (const p of s.points) {
      const ok = Number.isFinite(p.x) && Number.isFinite(p.y) && (!log || p.y > 0);
      if (!ok) {
        pen = false;
        continue;
      }
      const y = Math.min(MARGIN.top + plotH, Math.max(MARGIN.top, toY(p.y)));
      path += `${pen ? "L" : "M"}${toX(p.x).toFixed(1)} ${y.toFixed(1)} `;
      pen = true;
      parts.push(`<circle cx="${toX(p.x).toFixed(1)}" cy="${y.toFixed(1)}" r="${s.emphasis === true ? 3.5 : 2.5}" fill="${color}"/>`);
    }
    if (path !== "") parts.push(`<path d="${path.trim()}" fill="none" stroke="${color}" stroke-width="${width}" stroke-linejoin="round"/>`);
  });
  legend(parts, o.series.map((s, i) => ({ name: s.name, color: PALETTE[i % PALETTE.length]!, bold: s.emphasis })));
  parts.push("</svg>");
  return parts.join("\n");
}

/** Grouped vertical bars: one cluster per category, one bar per group, legend on the right. */
export function barChart(o: BarChartOptions): string {
  const { plotW, plotH, parts } = frame(o.title);
  const yFormat = o.yFormat ?? compactNumber;
  const values = o.groups.flatMap((g) => g.values).filter(Number.isFinite);
  const yTicks = niceTicks(0, values.length > 0 ? Math.max(...values) : 1);
  const yHi = Math.max(yTicks[yTicks.length - 1] ?? 1, ...values, 1e-9);
  const toY = (v: number): number => MARGIN.top + plotH - (v / yHi) * plotH;
  yAxis(parts, { plotW, plotH, ticks: yTicks, toY, format: yFormat, label: o.yLabel });
  const slot = plotW / Math.max(1, o.categories.length);
  const barW = (slot * 0.8) / Math.max(1, o.groups.length);
  o.categories.forEach((category, c) => {
    const x0 = MARGIN.left + c * slot + slot * 0.1;
    o.groups.forEach((g, gi) => {
      const v = g.values[c] ?? NaN;
      if (!Number.isFinite(v)) return;
      const y = toY(Math.max(0, v));
      const h = MARGIN.top + plotH - y;
      parts.push(`<rect x="${(x0 + gi * barW).toFixed(1)}" y="${y.toFixed(1)}" width="${(barW * 0.92).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[gi % PALETTE.length]}"><title>${escapeXml(`${g.name} · ${category}: ${yFormat(v)}`)}</title></rect>`);
    });
    parts.push(`<text x="${(MARGIN.left + c * slot + slot / 2).toFixed(1)}" y="${MARGIN.top + plotH + 19}" text-anchor="middle" fill="#555">${escapeXml(category)}</text>`);
  });
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#888"/>`);
  legend(parts, o.groups.map((g, i) => ({ name: g.name, color: PALETTE[i % PALETTE.length]! })));
  parts.push("</svg>");
  return parts.join("\n");
}
