/** What people and the judge say about the models: feedback counts, the latest eval run, the arena's top models. */
import type { FeedbackCounts, Summary } from "./dashboard-schemas.js";
import { formatJudgeScore, formatInterval, formatPoints } from "../leaderboard/format.js";
import { formatCount } from "./format.js";

function Tally({ label, counts }: { label: string; counts: FeedbackCounts }) {
  return (
    <div>
      <h3>{label}</h3>
      <ul class="tally" aria-label={`Feedback, ${label.toLowerCase()}`}>
        <li>
          <span class="small muted">Thumbs up</span>
          <span class="tally-value">{formatCount(counts.up)}</span>
        </li>
        <li>
          <span class="small muted">Thumbs down</span>
          <span class="tally-value">{formatCount(counts.down)}</span>
        </li>
        <li>
          <span class="small muted">Flagged</span>
          <span class="tally-value">{formatCount(counts.flagged)}</span>
        </li>
      </ul>
    </div>
  );
}

function Time({ seconds }: { seconds: number }) {
  const date = new Date(seconds * 1000);
  return <time dateTime={date.toISOString()}>{date.toLocaleString()}</time>;
}

function EvalResult({ run }: { run: NonNullable<Summary["eval"]> }) {
  const scores = Object.entries(run.scores).sort(([, a], [, b]) => (b ?? -Infinity) - (a ?? -Infinity));
  return (
    <div>
      <h3>Latest evaluation</h3>
      <p class="small muted">
        {run.judge_model}, {run.mode === "single" ? "mean rating 1–10" : "adjusted win rate"}, {run.question_count} questions of {run.question_set}; recorded{" "}
        <Time seconds={run.recorded_at} />.
      </p>
      <div class="table-scroll">
        <table class="dash-table">
          <caption class="visually-hidden">Judge scores of the latest evaluation</caption>
          <thead>
            <tr>
              <th scope="col" class="text">
                Model
              </th>
              <th scope="col">Score</th>
            </tr>
          </thead>
          <tbody>
            {scores.map(([model, score]) => (
              <tr key={model}>
                <th scope="row" class="text">
                  {model}
                </th>
                <td>{formatJudgeScore(run.mode, score)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function ArenaResult({ arena }: { arena: NonNullable<Summary["arena"]> }) {
  return (
    <div>
      <h3>Arena</h3>
      <p class="small muted">
        {formatCount(arena.votes_counted)} {arena.votes_counted === 1 ? "vote" : "votes"} counted; computed <Time seconds={arena.computed_at} />. The whole ranking:{" "}
        <a href="/leaderboard">leaderboard</a>.
      </p>
      <div class="table-scroll">
        <table class="dash-table">
          <caption class="visually-hidden">The arena's top models</caption>
          <thead>
            <tr>
              <th scope="col">Rank</th>
              <th scope="col" class="text">
                Model
              </th>
              <th scope="col">Rating</th>
              <th scope="col">95 % interval</th>
              <th scope="col">Battles</th>
            </tr>
          </thead>
          <tbody>
            {arena.top.map((m) => (
              <tr key={m.model}>
                <td>{m.rank}</td>
                <th scope="row" class="text">
                  {m.model}
                </th>
                <td>{formatPoints(m.rating)}</td>
                <td>{formatInterval(m.rating_low, m.rating_high)}</td>
                <td>{formatCount(m.battles)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function ResultsPanel({ summary }: { summary: Summary }) {
  return (
    <>
      <section class="dash-section" aria-labelledby="feedback-title">
        <h2 id="feedback-title">Feedback</h2>
        <div class="dash-columns">
          <Tally label="Last 24 hours" counts={summary.feedback.last_day} />
          <Tally label="All time" counts={summary.feedback.total} />
        </div>
      </section>
      <section class="dash-section" aria-labelledby="results-title">
        <h2 id="results-title">Evaluations and arena</h2>
        <div class="dash-columns">
          {summary.eval === null ? (
            <p class="muted small">
              No evaluation recorded yet: <code>npm run eval</code> records one.
            </p>
          ) : (
            <EvalResult run={summary.eval} />
          )}
          {summary.arena === null ? (
            <p class="muted small">
              No arena votes counted yet: people vote in the <a href="/arena">arena</a>.
            </p>
          ) : (
            <ArenaResult arena={summary.arena} />
          )}
        </div>
      </section>
    </>
  );
}
