/**
 * The signed-in arena: a question (and an optional system prompt), two anonymous answers side by
 * side (stacked on a phone), follow-ups to both, the vote that names the models, New battle.
 */
import { useState } from "preact/hooks";
import { PageNav } from "../components/PageNav.js";
import type { SignedInProps } from "../components/SessionGate.js";
import { ThemeToggle } from "../components/ThemeToggle.js";
import { Composer } from "../components/Composer.js";
import { ArenaPane } from "./ArenaPane.js";
import { canAsk, isStreaming, modelOf, SLOTS, voteState } from "./battle.js";
import { useArena } from "./use-arena.js";
import { VoteBar } from "./VoteBar.js";

export function ArenaApp({ session, onSignOut, onSignedOut }: SignedInProps) {
  const arena = useArena({ onSignedOut });
  const [systemPrompt, setSystemPrompt] = useState("");
  const { view } = arena;
  const state = voteState(view);
  const streaming = isStreaming(view);
  const winner = view.battle?.vote?.winner ?? null;
  const who = session.kind === "visitor" ? "Demo visitor" : session.name;

  return (
    <div class="app">
      <header class="topbar with-nav">
        <h1 class="brand">Altiplano</h1>
        <PageNav current="arena" admin={session.kind === "key" && session.role === "admin"} />
        <span class="who muted small" title={who}>
          {who}
        </span>
        <ThemeToggle />
        <button type="button" class="sign-out" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main class="arena">
        <div class="arena-body">
          {arena.notice && (
            <div class="banner" role="alert">
              <span>{arena.notice}</span>
              <button type="button" class="link-button" onClick={arena.dismissNotice}>
                Dismiss
              </button>
            </div>
          )}
          {state === "empty" ? (
            <section class="arena-intro" aria-labelledby="arena-title">
              <h2 id="arena-title">Arena</h2>
              {arena.loading ? (
                <p class="muted">Loading the battle…</p>
              ) : (
                <>
                  <p>
                    Ask a question: two anonymous models answer it side by side. Ask follow-ups if you like, then vote for the better answer — only then are the models named. Votes
                    rank the models on the <a href="/leaderboard">leaderboard</a>.
                  </p>
                  <details class="arena-system">
                    <summary>System prompt (optional)</summary>
                    <label for="arena-system-prompt">System prompt, the same for both models</label>
                    <textarea
                      id="arena-system-prompt"
                      rows={3}
                      placeholder="For example: You are a concise assistant who answers in English."
                      value={systemPrompt}
                      onInput={(e) => setSystemPrompt(e.currentTarget.value)}
                    />
                  </details>
                </>
              )}
            </section>
          ) : (
            <>
              {view.systemPrompt && (
                <details class="system-prompt arena-system-shown">
                  <summary>System prompt</summary>
                  <p>{view.systemPrompt}</p>
                </details>
              )}
              <div class="arena-panes">
                {SLOTS.map((slot) => (
                  <ArenaPane key={slot} slot={slot} turns={view.turns} model={modelOf(view, slot)} picked={winner === slot} />
                ))}
              </div>
              <VoteBar state={state} winner={winner} voting={arena.voting} canStartOver={!streaming} onVote={(w) => void arena.vote(w)} onNewBattle={arena.newBattle} />
            </>
          )}
        </div>
        {(canAsk(view) || streaming) && (
          <Composer
            class="arena-composer"
            label="Question"
            placeholder={state !== "empty" ? "Ask both models a follow-up" : "Ask both models a question"}
            busy={streaming || arena.loading}
            onSend={(q) => arena.ask(q, systemPrompt)}
          />
        )}
      </main>
    </div>
  );
}
