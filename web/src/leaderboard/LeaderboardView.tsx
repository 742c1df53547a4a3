/**
 * The public leaderboard (no sign-in): the models ranked by rating with their 95 % interval and
 * record, the pairwise win-fraction matrix coloured by fraction, and when and from how many votes
 * it was computed.
 */
import { useEffect, useState } from "preact/hooks";
import { getLeaderboard } from "../api/arena-client.js";
import type { ArenaLeaderboard } from "../api/arena-schemas.js";
import { errorWords } from "../api/errors.js";
import { PageNav } from "../components/PageNav.js";
import { ThemeToggle } from "../components/ThemeToggle.js";
import { cellTitle, formatFraction, formatInterval, formatJudgeScore, formatPoints, fractionStep, votesSentence } from "./format.js";

type State = { kind: "loading" } | { kind: "failed"; message: string } | { kind: "ready"; board: ArenaLeaderboard };

function RatingsTable({ board }: { board: ArenaLeaderboard }) {
  const confidence = Math.round(board.bootstrap.confidence * 100);
  return (
    <div class="table-scroll">
      <table class="ratings">
        <caption class="visually-hidden">Models ranked by rating</caption>
        <thead>
          <tr>
            <th scope="col">Rank</th>
            <th scope="col" class="text">
              Model
            </th>
            <th scope="col">Rating</th>
            <th scope="col">{confidence} % interval</th>
            <th scope="col">Battles</th>
            <th scope="col">Wins</th>
            <th scope="col">Losses</th>
            <th scope="col">Ties</th>
            {board.judge && <th scope="col">Judge</th>}
          </tr>
        </thead>
        <tbody>
          {board.models.map((m) => (
            <tr key={m.model}>
              <td>{m.rank}</td>
              <th scope="row" class="text">
                {m.model}
              </th>
              <td class="rating">{formatPoints(m.rating)}</td>
              <td>{formatInterval(m.rating_low, m.rating_high)}</td>
              <td>{m.battles}</td>
              <td>{m.wins}</td>
              <td>{m.losses}</td>
              <td>{m.ties}</td>
              {board.judge && <td class="judge-score">{formatJudgeScore(board.judge.mode, board.judge.scores[m.model])}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function WinMatrix({ board }: { board: ArenaLeaderboard }) {
  const { models, fractions, battles } = board.win_fractions;
  return (
    <>
      <p class="small muted" id="matrix-note">
        Each cell: the share of their battles the row's model won against the column's model (ties count half), and how many battles they had; — where two models have not
        met.
      </p>
      <div class="table-scroll">
        <table class="win-matrix" aria-describedby="matrix-note">
          <caption class="visually-hidden">Win fractions between models</caption>
          <thead>
            <tr>
              <td />
              {models.map((m) => (
                <th key={m} scope="col">
                  {m}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {models.map((row, i) => (
              <tr key={row}>
                <th scope="row">{row}</th>
                {models.map((column, j) => {
                  if (i === j) return <td key={column} class="diagonal" />;
                  const fraction = fractions[i]?.[j] ?? null;
                  const step = fractionStep(fraction);
                  const count = battles[i]?.[j] ?? 0;
                  return (
                    <td key={column} class={step === null ? "never" : `wf wf-${step}`} title={cellTitle(row, column, fraction, count)}>
                      {formatFraction(fraction)}
                      {step !== null && <span class="cell-count">{count === 1 ? "1 battle" : `${count} battles`}</span>}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function LeaderboardView() {
  const [state, setState] = useState<State>({ kind: "loading" });
  useEffect(() => {
    getLeaderboard()
      .then((board) => setState({ kind: "ready", board }))
      .catch((err: unknown) => setState({ kind: "failed", message: errorWords(err) }));
  }, []);

  return (
    <div class="app">
      <header class="topbar with-nav">
        <a class="brand" href="/">
          Altiplano
        </a>
        <PageNav current="leaderboard" />
        <ThemeToggle />
      </header>
      <main class="board-main">
        <h1>Leaderboard</h1>
        {state.kind === "loading" && <p class="muted">Loading…</p>}
        {state.kind === "failed" && (
          <p class="error" role="alert">
            {state.message}
          </p>
        )}
        {state.kind === "ready" && (state.board.models.length === 0 || state.board.votes_counted === 0) && (
          <section class="board-empty">
            <p>No votes yet, so no ranking.</p>
            <p>
              In the <a href="/arena">arena</a> two anonymous models answer the same question and you vote for the better answer; the votes rank the models here.
            </p>
            <p class="muted small">
              Computed <Time seconds={state.board.computed_at} />. {votesSentence(state.board)}
            </p>
          </section>
        )}
        {state.kind === "ready" && state.board.models.length > 0 && state.board.votes_counted > 0 && (
          <>
            <p class="muted board-meta">
              Computed <Time seconds={state.board.computed_at} />. {votesSentence(state.board)}
            </p>
            <RatingsTable board={state.board} />
            <p class="small muted">
              Ratings are Elo-like points (400 per factor of 10 in the odds of winning), fitted on the votes;{" "}
              {state.board.anchor.kind === "mean" ? `the mean model is at ${formatPoints(state.board.anchor.rating)}` : `${state.board.anchor.model} is fixed at ${formatPoints(state.board.anchor.rating)}`}
              . The interval comes from {state.board.bootstrap.rounds} bootstrap rounds; models whose intervals overlap share a rank.
            </p>
            {state.board.judge && <JudgeNote judge={state.board.judge} />}
            <h2>Who beats whom</h2>
            <WinMatrix board={state.board} />
          </>
        )}
      </main>
    </div>
  );
}

/** Where the Judge column comes from: the latest recorded evaluation run, an LLM's verdicts rather than people's. */
function JudgeNote({ judge }: { judge: NonNullable<ArenaLeaderboard["judge"]> }) {
  return (
    <p class="small muted judge-note">
      Judge: {judge.judge_model}&rsquo;s {judge.mode === "single" ? "mean rating (1–10)" : "adjusted win rate"} over {judge.question_count} questions of{" "}
      {judge.question_set}, recorded <Time seconds={judge.recorded_at} /> (<code>npm run eval</code>). An LLM&rsquo;s verdicts, beside the people&rsquo;s votes; &ndash; where the run did not
      include the model.
    </p>
  );
}

function Time({ seconds }: { seconds: number }) {
  const date = new Date(seconds * 1000);
  return <time dateTime={date.toISOString()}>{date.toLocaleString()}</time>;
}
