/**
 * The signed-in operators' dashboard: the GPU pool live (polled every POOL_POLL_MS while the tab
 * is visible), traffic charts over the last hour or day, usage by key and end user, feedback
 * counts, and the latest eval and arena results. Every poll stops while the tab is hidden.
 */
import { useCallback, useEffect, useState } from "preact/hooks";
import type { DashboardRange } from "../../../wire/dashboard.js";
import { errorWords, isSignedOut } from "../api/errors.js";
import { PageNav } from "../components/PageNav.js";
import type { SignedInProps } from "../components/SessionGate.js";
import { ThemeToggle } from "../components/ThemeToggle.js";
import { getSummary } from "./dashboard-api.js";
import { formatClock } from "./format.js";
import { getPool, runWorkerAction } from "./pool-api.js";
import { PoolPanel } from "./PoolPanel.js";
import { ResultsPanel } from "./ResultsPanel.js";
import { TrafficPanel } from "./TrafficPanel.js";
import { UsagePanel, type UsagePeriod } from "./UsagePanel.js";
import { usePoll } from "./use-poll.js";
import type { WorkerAction } from "./worker-state.js";

/** The pool changes by the second (heartbeats); the issue bounds polling at every 2 s. */
const POOL_POLL_MS = 2_000;
/** Usage settles per request and feedback trickles in: every 10 s is live enough and spares D1. */
const SUMMARY_POLL_MS = 10_000;

export function DashboardApp({ session, onSignOut, onSignedOut }: SignedInProps) {
  const pool = usePoll(getPool, POOL_POLL_MS);
  const summary = usePoll(getSummary, SUMMARY_POLL_MS);
  const [range, setRange] = useState<DashboardRange>("hour");
  const [period, setPeriod] = useState<UsagePeriod>("today");
  const who = session.kind === "key" ? session.name : "";
  const signedOut = isSignedOut(pool.error) || isSignedOut(summary.error);
  useEffect(() => {
    if (signedOut) onSignedOut();
  }, [signedOut, onSignedOut]);

  const onAction = useCallback(
    async (workerId: string, action: WorkerAction): Promise<void> => {
      try {
        await runWorkerAction(workerId, action);
      } catch (err) {
        throw new Error(errorWords(err));
      } finally {
        pool.refresh();
      }
    },
    [pool.refresh],
  );

  return (
    <div class="app">
      <header class="topbar with-nav">
        <h1 class="brand">Altiplano</h1>
        <PageNav current="dashboard" admin />
        <span class="who muted small" title={who}>
          {who}
        </span>
        <ThemeToggle />
        <button type="button" class="sign-out" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main class="dash-main">
        <div class="dash-status">
          <h2 class="dash-title">Dashboard</h2>
          <p class="muted small" role="status">
            {pool.updatedAt === null ? "Loading…" : `Live: updated ${formatClock(pool.updatedAt, { seconds: true })}, every ${POOL_POLL_MS / 1000} s while this tab is visible.`}
          </p>
        </div>
        {pool.error !== null && !isSignedOut(pool.error) && (
          <p class="error" role="alert">
            GPU pool: {errorWords(pool.error)}
          </p>
        )}
        {pool.data !== null && <PoolPanel pool={pool.data} onAction={onAction} />}
        <TrafficPanel range={range} onRange={setRange} />
        {summary.error !== null && !isSignedOut(summary.error) && (
          <p class="error" role="alert">
            Usage and results: {errorWords(summary.error)}
          </p>
        )}
        {summary.data !== null && (
          <>
            <UsagePanel window={summary.data.usage[period]} period={period} onPeriod={setPeriod} />
            <ResultsPanel summary={summary.data} />
          </>
        )}
      </main>
    </div>
  );
}
