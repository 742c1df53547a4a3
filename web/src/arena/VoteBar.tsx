/**
 * The four votes, enabled once both answers have ended; after the vote they stay visible with the
 * chosen one pressed, and "New battle" starts again.
 */
import type { ArenaWinner } from "../api/arena-schemas.js";
import { VOTE_CHOICES, voteLabel, type VoteState } from "./battle.js";

const HINTS: Record<VoteState, string> = {
  empty: "",
  waiting: "Vote when both answers have finished.",
  ready: "Which answer is better? You can also ask a follow-up first.",
  voted: "",
  not_votable: "One side failed, so this battle cannot be voted on.",
};

export function VoteBar(props: { state: VoteState; winner: ArenaWinner | null; voting: boolean; canStartOver: boolean; onVote: (winner: ArenaWinner) => void; onNewBattle: () => void }) {
  const enabled = props.state === "ready" && !props.voting;
  const closed = props.state === "voted" || props.state === "not_votable";
  const hint = props.state === "voted" && props.winner !== null ? `You voted: ${voteLabel(props.winner)}. The models are named above.` : HINTS[props.state];
  return (
    <div class="vote-bar">
      <div class="vote-buttons" role="group" aria-label="Your vote">
        {VOTE_CHOICES.map((choice) => (
          <button
            key={choice.winner}
            type="button"
            class={`vote-button vote-${choice.winner}`}
            disabled={!enabled}
            aria-pressed={props.state === "voted" ? props.winner === choice.winner : undefined}
            onClick={() => props.onVote(choice.winner)}
          >
            {choice.label}
          </button>
        ))}
      </div>
      <div class="vote-status">
        <p class={`vote-hint small${props.state === "not_votable" ? " error" : " muted"}`} role="status">
          {hint}
        </p>
        {props.canStartOver && (
          <button type="button" class={closed ? "primary" : undefined} onClick={props.onNewBattle}>
            New battle
          </button>
        )}
      </div>
    </div>
  );
}
