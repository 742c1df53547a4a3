/**
 * The GPU pool, live: a card per worker (state, what runs it, models, load, heartbeat, breaker)
 * with the operator's actions, each asking for confirmation first; and per model the ready
 * workers beside the replicas the pool recommends.
 */
import { useState } from "preact/hooks";
import { formatAge, formatCount, formatShare, formatTokensPerSecond } from "./format.js";
import type { Pool, PoolModel, PoolWorker } from "./pool-schemas.js";
import { ACTION_LABELS, availableActions, breakerView, confirmQuestion, runtimeLabel, stateView, usageTone, type WorkerAction } from "./worker-state.js";

export interface PoolPanelProps {
  pool: Pool;
  /** Runs an action; resolves when the gateway has answered (the panel refreshes after). */
  onAction: (workerId: string, action: WorkerAction) => Promise<void>;
}

function Meter({ label, fraction }: { label: string; fraction: number }) {
  const percent = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  return (
    <meter class={`meter tone-${usageTone(fraction)}`} min={0} max={100} low={70} high={90} optimum={0} value={percent} aria-label={label}>
      {percent} %
    </meter>
  );
}

function WorkerCard({ worker, now, onAction }: { worker: PoolWorker; now: number; onAction: PoolPanelProps["onAction"] }) {
  const [confirming, setConfirming] = useState<WorkerAction | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const state = stateView(worker.state);
  const breaker = breakerView(worker, now);
  const runtime = runtimeLabel(worker.runtime);
  const headingId = `worker-${worker.id}`;

  const run = async (action: WorkerAction): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await onAction(worker.id, action);
      setConfirming(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <article class={`worker-card state-${worker.state}`} aria-labelledby={headingId} data-worker={worker.id}>
      <header class="worker-head">
        <h3 id={headingId}>{worker.id}</h3>
        <span class={`badge tone-${state.tone}`} title={state.meaning} data-testid="worker-state">
          {state.label}
        </span>
      </header>
      <p class="worker-url small muted" title={worker.url}>
        {worker.url}
      </p>
      {runtime !== null && (
        <p class={`runtime small ${worker.runtime?.kind === "simulator" ? "runtime-sim" : ""}`}>
          Runs: <strong>{runtime}</strong>
        </p>
      )}
      <dl class="worker-stats">
        <div class="stat-wide">
          <dt>Models</dt>
          <dd>{worker.models.map((m) => m.id).join(", ") || "—"}</dd>
        </div>
        <div>
          <dt>Running</dt>
          <dd>{formatCount(worker.load.running)}</dd>
        </div>
        <div>
          <dt>Waiting</dt>
          <dd>{formatCount(worker.load.waiting)}</dd>
        </div>
        <div>
          <dt>KV cache</dt>
          <dd class="with-meter">
            <Meter label={`KV cache use of ${worker.id}`} fraction={worker.load.kv_cache_usage} />
            <span>{formatShare(worker.load.kv_cache_usage)}</span>
          </dd>
        </div>
        <div>
          <dt>Prefix-cache hits</dt>
          <dd>{formatShare(worker.load.prefix_cache_hit_rate)}</dd>
        </div>
        <div>
          <dt>Generation</dt>
          <dd>{formatTokensPerSecond(worker.load.tokens_per_second)}</dd>
        </div>
        <div>
          <dt>Heartbeat</dt>
          <dd>{formatAge(worker.last_heartbeat_age_ms)}</dd>
        </div>
        <div class="stat-wide">
          <dt>Breaker</dt>
          <dd class={breaker.open ? "breaker-open" : undefined}>
            {breaker.label}
            {worker.total_failures > 0 && <span class="muted"> · {formatCount(worker.total_failures)} failures in all</span>}
          </dd>
        </div>
      </dl>
      {confirming === null ? (
        <div class="worker-actions" role="group" aria-label={`Actions for ${worker.id}`}>
          {availableActions(worker.admin_state).map((action) => (
            <button key={action} type="button" class={`small-button${action === "remove" ? " danger" : ""}`} disabled={busy} onClick={() => setConfirming(action)}>
              {ACTION_LABELS[action]}
            </button>
          ))}
        </div>
      ) : (
        <div class="confirm worker-confirm" role="group" aria-label={`Confirm: ${ACTION_LABELS[confirming]} ${worker.id}`}>
          <span>{confirmQuestion(confirming, worker.id)}</span>
          <span class="confirm-buttons">
            <button type="button" class={`small-button ${confirming === "remove" || confirming === "drain" ? "danger" : "primary"}`} disabled={busy} onClick={() => void run(confirming)}>
              Yes, {ACTION_LABELS[confirming].toLowerCase()}
            </button>
            <button type="button" class="small-button" disabled={busy} onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </span>
        </div>
      )}
      {error !== null && (
        <p class="error small" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}

function ModelsTable({ models }: { models: PoolModel[] }) {
  if (models.length === 0) return <p class="muted">No model has a worker yet.</p>;
  return (
    <div class="table-scroll">
      <table class="dash-table">
        <caption class="visually-hidden">Per model: workers and the recommended replicas</caption>
        <thead>
          <tr>
            <th scope="col" class="text">
              Model
            </th>
            <th scope="col">
              <abbr title="Ready workers / live workers (ready, draining or cordoned)">Ready / live</abbr>
            </th>
            <th scope="col">Desired</th>
            <th scope="col">
              <abbr title="Requests running / waiting, over the model's workers">Run / wait</abbr>
            </th>
            <th scope="col">KV cache</th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <tr key={m.model} data-model={m.model}>
              <th scope="row" class="text">
                {m.model}
              </th>
              <td>
                {formatCount(m.ready_workers)} / {formatCount(m.live_workers)}
              </td>
              <td class={m.desired_replicas > m.ready_workers ? "scale-up" : m.desired_replicas < m.ready_workers ? "scale-down" : undefined}>
                {formatCount(m.desired_replicas)}
                {m.desired_replicas > m.ready_workers && <span class="small delta"> (+{m.desired_replicas - m.ready_workers})</span>}
                {m.desired_replicas < m.ready_workers && <span class="small delta"> (−{m.ready_workers - m.desired_replicas})</span>}
              </td>
              <td>
                {formatCount(m.running)} / {formatCount(m.waiting)}
              </td>
              <td>{formatShare(m.kv_cache_usage)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function PoolPanel({ pool, onAction }: PoolPanelProps) {
  const ready = pool.workers.filter((w) => w.state === "ready").length;
  return (
    <>
      <section class="dash-section" aria-labelledby="pool-title">
        <h2 id="pool-title">GPU pool</h2>
        <p class="muted small" aria-live="polite">
          {pool.workers.length === 0 ? "No workers have joined." : `${ready} of ${pool.workers.length} workers ready.`} Heartbeats every{" "}
          {pool.heartbeat_interval_ms >= 1000 ? `${pool.heartbeat_interval_ms / 1000} s` : `${pool.heartbeat_interval_ms} ms`}.
        </p>
        <div class="worker-grid">
          {pool.workers.map((w) => (
            <WorkerCard key={w.id} worker={w} now={pool.taken_at} onAction={onAction} />
          ))}
        </div>
      </section>
      <section class="dash-section" aria-labelledby="models-title">
        <h2 id="models-title">Models</h2>
        <p class="muted small">Desired: the replicas the pool recommends for the load it sees, for whatever scales the GPUs.</p>
        <ModelsTable models={pool.models} />
      </section>
    </>
  );
}
