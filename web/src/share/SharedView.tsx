/** A shared conversation, read-only: its title, which model answered, and the messages. */
import { useEffect, useState } from "preact/hooks";
import { getSharedConversation } from "../api/client.js";
import { ApiError, errorWords } from "../api/errors.js";
import type { SharedConversation } from "../api/schemas.js";
import { Markdown } from "../components/Markdown.js";
import { ThemeToggle } from "../components/ThemeToggle.js";

type State = { kind: "loading" } | { kind: "missing" } | { kind: "failed"; message: string } | { kind: "ready"; shared: SharedConversation };

export function SharedView({ shareId }: { shareId: string }) {
  const [state, setState] = useState<State>({ kind: "loading" });
  useEffect(() => {
    getSharedConversation(shareId)
      .then((shared) => {
        setState({ kind: "ready", shared });
        document.title = `${shared.title ?? "Shared conversation"} · Altiplano`;
      })
      .catch((err: unknown) => setState(err instanceof ApiError && err.status === 404 ? { kind: "missing" } : { kind: "failed", message: errorWords(err) }));
  }, [shareId]);

  return (
    <div class="app shared">
      <header class="topbar">
        <a class="brand" href="/">
          Altiplano
        </a>
        <span class="spacer" />
        <ThemeToggle />
      </header>
      <main class="shared-main">
        {state.kind === "loading" && <p class="muted">Loading…</p>}
        {state.kind === "missing" && (
          <>
            <h1>This link does not work</h1>
            <p>The conversation was never shared under this link, or its owner has revoked it.</p>
          </>
        )}
        {state.kind === "failed" && (
          <p class="error" role="alert">
            {state.message}
          </p>
        )}
        {state.kind === "ready" && (
          <>
            <h1>{state.shared.title ?? "Shared conversation"}</h1>
            <p class="muted">
              Answered by {state.shared.model} · shared <time dateTime={new Date(state.shared.created_at * 1000).toISOString()}>{new Date(state.shared.created_at * 1000).toLocaleString()}</time>
            </p>
            <div class="transcript-inner" role="log" aria-label="Transcript">
              {state.shared.messages.map((m, i) => {
                const author = m.role === "user" ? "User" : state.shared.model;
                return (
                  <article key={i} class={`message ${m.role}`} aria-label={author}>
                    <div class="message-author">{author}</div>
                    {m.role === "user" ? <div class="user-text">{m.content}</div> : <Markdown text={m.content} />}
                    {m.status === "cancelled" && <p class="status-note">Stopped</p>}
                    {m.status === "length" && <p class="status-note">Cut off at the length limit</p>}
                    {m.status === "failed" && <p class="status-note">The answer failed part-way</p>}
                  </article>
                );
              })}
            </div>
          </>
        )}
        <p class="start-own">
          <a href="/">Start your own chat</a>
        </p>
      </main>
    </div>
  );
}
