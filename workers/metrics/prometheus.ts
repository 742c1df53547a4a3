/**
 * Prometheus text exposition format (version 0.0.4): metric families in, text out. Pure: no I/O,
 * no clock. Names and label names are checked, since a bad one would make a scraper drop the
 * whole page; label values and help text are escaped as the format requires.
 */

/** The Content-Type a Prometheus scraper expects for this format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

/** One gauge or counter value. */
export interface Sample {
  labels: Labels;
  value: number;
}

/** One histogram series: per-bucket (not cumulative) counts, the last bucket being +Inf. */
export interface HistogramSample {
  labels: Labels;
  /** Upper bounds of the finite buckets, ascending. */
  bounds: readonly number[];
  /** Observations per bucket; length is bounds.length + 1. */
  buckets: readonly number[];
  sum: number;
}

/** A metric family: one HELP and TYPE line followed by its samples. */
export type MetricFamily =
  | { name: string; help: string; type: "gauge" | "counter"; samples: readonly Sample[] }
  | { name: string; help: string; type: "histogram"; samples: readonly HistogramSample[] };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A number as the format writes it: integers plainly, +Inf/-Inf/NaN by name. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function renderLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  for (const [name] of entries) {
    if (!LABEL_NAME.test(name) || name.startsWith("__")) throw new Error(`invalid Prometheus label name '${name}'`);
  }
  return `{${entries.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",")}}`;
}

/** Running totals of per-bucket counts: what `_bucket{le=…}` reports. */
export function cumulativeBuckets(buckets: readonly number[]): number[] {
  let total = 0;
  return buckets.map((count) => (total += count));
}

function histogramLines(name: string, sample: HistogramSample): string[] {
  if (sample.buckets.length !== sample.bounds.length + 1) {
    throw new Error(`histogram ${name} has ${sample.buckets.length} buckets for ${sample.bounds.length} bounds`);
  }
  const cumulative = cumulativeBuckets(sample.buckets);
  const count = cumulative[cumulative.length - 1] ?? 0;
  const lines = sample.bounds.map((bound, i) => `${name}_bucket${renderLabels({ ...sample.labels, le: formatValue(bound) })} ${cumulative[i] ?? 0}`);
  lines.push(`${name}_bucket${renderLabels({ ...sample.labels, le: "+Inf" })} ${count}`);
  lines.push(`${name}_sum${renderLabels(sample.labels)} ${formatValue(sample.sum)}`);
  lines.push(`${name}_count${renderLabels(sample.labels)} ${count}`);
  return lines;
}

/** Renders families in order; the text ends with a line feed, as scrapers require. */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) throw new Error(`invalid Prometheus metric name '${family.name}'`);
    if (seen.has(family.name)) throw new Error(`metric family '${family.name}' rendered twice`);
    seen.add(family.name);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.type === "histogram") {
      for (const sample of family.samples) lines.push(...histogramLines(family.name, sample));
    } else {
      for (const sample of family.samples) lines.push(`${family.name}${renderLabels(sample.labels)} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
