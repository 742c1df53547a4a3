/** Usage today or over the last 7 days: totals, and the top keys and end users by tokens. */
import type { UsageWindow } from "./dashboard-schemas.js";
import { formatCount } from "./format.js";

export type UsagePeriod = "today" | "week";

function keyLabel(row: { key_id: string; key_name: string | null }): string {
  return row.key_name ?? row.key_id;
}

export function UsagePanel({ window: w, period, onPeriod }: { window: UsageWindow; period: UsagePeriod; onPeriod: (p: UsagePeriod) => void }) {
  const dates = w.start_date === w.end_date ? `${w.start_date} (UTC)` : `${w.start_date} to ${w.end_date} (UTC)`;
  return (
    <section class="dash-section" aria-labelledby="usage-title">
      <div class="section-head">
        <h2 id="usage-title">Usage</h2>
        <div class="range-switch" role="group" aria-label="Usage period">
          {(["today", "week"] as const).map((p) => (
            <button key={p} type="button" class="small-button" aria-pressed={p === period} onClick={() => onPeriod(p)}>
              {p === "today" ? "Today" : "Last 7 days"}
            </button>
          ))}
        </div>
      </div>
      <p class="muted small">
        {dates}: {formatCount(w.totals.requests)} requests, {formatCount(w.totals.total_tokens)} tokens, {formatCount(w.totals.failures)} failed; {formatCount(w.active_keys)} keys
        and {formatCount(w.active_end_users)} end users active. Settled usage: requests still running are not in it yet.
      </p>
      <div class="dash-columns">
        <div>
          <h3>Top keys</h3>
          {w.top_keys.length === 0 ? (
            <p class="muted small">No usage in this period.</p>
          ) : (
            <div class="table-scroll">
              <table class="dash-table top-keys">
                <caption class="visually-hidden">Keys by tokens used</caption>
                <thead>
                  <tr>
                    <th scope="col" class="text">
                      Key
                    </th>
                    <th scope="col">Requests</th>
                    <th scope="col">Tokens</th>
                    <th scope="col">Failed</th>
                  </tr>
                </thead>
                <tbody>
                  {w.top_keys.map((k) => (
                    <tr key={k.key_id}>
                      <th scope="row" class="text" title={k.key_id}>
                        {keyLabel(k)}
                      </th>
                      <td>{formatCount(k.requests)}</td>
                      <td>{formatCount(k.total_tokens)}</td>
                      <td>{formatCount(k.failures)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
        <div>
          <h3>Top end users</h3>
          {w.top_end_users.length === 0 ? (
            <p class="muted small">No end users in this period (only bot keys and the public demo have them).</p>
          ) : (
            <div class="table-scroll">
              <table class="dash-table top-users">
                <caption class="visually-hidden">End users by tokens used</caption>
                <thead>
                  <tr>
                    <th scope="col" class="text">
                      End user
                    </th>
                    <th scope="col" class="text">
                      Key
                    </th>
                    <th scope="col">Requests</th>
                    <th scope="col">Tokens</th>
                  </tr>
                </thead>
                <tbody>
                  {w.top_end_users.map((u) => (
                    <tr key={`${u.key_id}/${u.user}`}>
                      <th scope="row" class="text">
                        {u.user}
                      </th>
                      <td class="text" title={u.key_id}>
                        {keyLabel(u)}
                      </td>
                      <td>{formatCount(u.requests)}</td>
                      <td>{formatCount(u.total_tokens)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      </div>
    </section>
  );
}
