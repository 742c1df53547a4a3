/**
 * One time-series chart drawn by uPlot on a canvas, sized to its box (and redrawn when the box or
 * the theme changes), with a caption and a one-line text summary for readers who cannot see it.
 * uPlot styles its own elements through the CSSOM (element.style), which the pages' CSP allows
 * without 'unsafe-inline'; its stylesheet comes in through the web build.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { formatClock } from "./format.js";
import { COUNT_AXIS_STEPS, isolatedIndices, type ChartSeries } from "./series.js";

export interface TimeChartProps {
  title: string;
  /** What the chart shows in words (totals), read by screen readers and shown under it. */
  summary: string;
  series: ChartSeries;
  /** Formats a value of the y axis and the legend. */
  formatValue: (value: number) => string;
  /** A count: the y axis steps by whole numbers. */
  integer?: boolean;
  /** The x range in seconds, so an empty stretch shows as empty rather than stretched data. */
  range: { start: number; end: number };
}

/** Bumps whenever the page's theme changes (the toggle or the system's), so colours are read again. */
function useThemeVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const bump = (): void => setVersion((v) => v + 1);
    const observer = new MutationObserver(bump);
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    const media = matchMedia("(prefers-color-scheme: dark)");
    media.addEventListener("change", bump);
    return () => {
      observer.disconnect();
      media.removeEventListener("change", bump);
    };
  }, []);
  return version;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888888";
}

const NARROW_PX = 520;

function chartHeight(width: number): number {
  return width < NARROW_PX ? 170 : 210;
}

export function TimeChart({ title, summary, series, formatValue, range, integer = false }: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const theme = useThemeVersion();
  const latest = useRef({ series, range, formatValue });
  latest.current = { series, range, formatValue };
  const labels = series.lines.map((l) => l.label).join("|");

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const axisColour = cssVar("--fg-muted");
    const gridColour = cssVar("--border");
    const { series: s } = latest.current;
    const width = Math.max(200, el.clientWidth);
    const format = (v: number): string => latest.current.formatValue(v);
    const options: uPlot.Options = {
      width,
      height: chartHeight(width),
      scales: { x: { time: true, range: () => [latest.current.range.start, latest.current.range.end] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      legend: { show: true, live: true },
      cursor: { points: { size: 6 }, drag: { x: false, y: false } },
      axes: [
        {
          stroke: axisColour,
          grid: { stroke: gridColour, width: 1 },
          ticks: { stroke: gridColour, width: 1 },
          font: "12px system-ui, sans-serif",
          values: (_u, splits) => splits.map((s) => formatClock(s * 1000)),
        },
        {
          stroke: axisColour,
          grid: { stroke: gridColour, width: 1 },
          ticks: { stroke: gridColour, width: 1 },
          font: "12px system-ui, sans-serif",
          // Wide enough for the longest label ("1 250 ms"), at about 7 px a character of 12 px type.
          size: (_u, values) => 16 + 7 * Math.max(3, ...(values ?? []).map((v) => String(v).length)),
          ...(integer ? { incrs: COUNT_AXIS_STEPS } : {}),
          values: (_u, splits) => splits.map(format),
        },
      ],
      series: [
        { label: "Time" },
        ...s.lines.map((line) => {
          const colour = cssVar(line.colourVar);
          return {
            label: line.label,
            stroke: colour,
            width: 2,
            fill: line.fill ? `${colour}22` : undefined,
            spanGaps: false,
            // Lines only; a value alone between gaps gets a dot, or it would not show at all.
            points: { show: false, size: 6, fill: colour, stroke: colour, filter: (u: uPlot, i: number) => isolatedIndices(u.data[i] as Array<number | null>) },
            value: (_u: uPlot, v: number | null) => (v === null ? "—" : format(v)),
          } satisfies uPlot.Series;
        }),
      ],
    };
    const chart = new uPlot(options, [s.x, ...s.lines.map((l) => l.values)] as uPlot.AlignedData, el);
    plot.current = chart;
    el.dataset.colours = s.lines.map((l) => cssVar(l.colourVar)).join(" ");

    const resize = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (w !== chart.width) chart.setSize({ width: w, height: chartHeight(w) });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // A new set of lines or a new theme builds the chart again; new values only redraw it.
  }, [theme, labels, integer]);

  useEffect(() => {
    plot.current?.setData([series.x, ...series.lines.map((l) => l.values)] as uPlot.AlignedData);
  }, [series, range.start, range.end]);

  const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  return (
    <figure class="chart" aria-labelledby={`chart-${slug}`}>
      <figcaption id={`chart-${slug}`}>{title}</figcaption>
      <div class="chart-box" ref={box} data-chart={slug} aria-hidden="true" />
      <p class="chart-summary small muted">{summary}</p>
    </figure>
  );
}
