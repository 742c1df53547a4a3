/** Traffic over the last hour or day: four charts from the per-minute history the gateway keeps. */
import { useCallback, useMemo } from "preact/hooks";
import type { DashboardRange } from "../../../wire/dashboard.js";
import { errorWords } from "../api/errors.js";
import { getHistory } from "./dashboard-api.js";
import { formatCount, formatDuration } from "./format.js";
import { trafficCharts } from "./history-charts.js";
import { TimeChart } from "./TimeChart.js";
import { usePoll } from "./use-poll.js";

/** History moves by the minute (hour) or five (day): polling faster only repeats the same buckets. */
const HISTORY_POLL_MS: Record<DashboardRange, number> = { hour: 5_000, day: 30_000 };

export function TrafficPanel({ range, onRange }: { range: DashboardRange; onRange: (range: DashboardRange) => void }) {
  const load = useCallback(() => getHistory(range), [range]);
  const history = usePoll(load, HISTORY_POLL_MS[range]);
  const data = history.data !== null && history.data.range === range ? history.data : null;
  const charts = useMemo(() => (data === null ? null : trafficCharts(data)), [data]);
  const countValue = (v: number): string => formatCount(v);

  return (
    <section class="dash-section" aria-labelledby="traffic-title">
      <div class="section-head">
        <h2 id="traffic-title">Traffic</h2>
        <div class="range-switch" role="group" aria-label="Time range">
          {(["hour", "day"] as const).map((r) => (
            <button key={r} type="button" class="small-button" aria-pressed={r === range} onClick={() => onRange(r)}>
              {r === "hour" ? "Last hour" : "Last day"}
            </button>
          ))}
        </div>
      </div>
      {history.error !== null && (
        <p class="error" role="alert">
          Traffic history: {errorWords(history.error)}
        </p>
      )}
      {charts === null && history.error === null && <p class="muted">Loading…</p>}
      {charts !== null && data !== null && (
        <>
          <p class="muted small">
            In {data.bucket_seconds === 60 ? "one-minute" : `${data.bucket_seconds / 60}-minute`} steps, all models
            {data.models.length > 0 ? ` (${data.models.join(", ")})` : ""}; history is kept {data.retention_days} days.
          </p>
          <div class="chart-grid">
            <TimeChart title="Requests by outcome" summary={charts.requests.summary} series={charts.requests.series} formatValue={countValue} integer range={charts.range} />
            <TimeChart title="Tokens" summary={charts.tokens.summary} series={charts.tokens.series} formatValue={countValue} integer range={charts.range} />
            <TimeChart title="Time to first token" summary={charts.ttft.summary} series={charts.ttft.series} formatValue={formatDuration} range={charts.range} />
            <TimeChart title="Failovers" summary={charts.failovers.summary} series={charts.failovers.series} formatValue={countValue} integer range={charts.range} />
          </div>
        </>
      )}
    </section>
  );
}
