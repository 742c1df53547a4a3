/** The chat page's root: asks who the cookies sign in as, then shows sign-in or the chat. */
import { useCallback, useEffect, useState } from "preact/hooks";
import * as api from "../api/client.js";
import { errorWords } from "../api/errors.js";
import type { SessionView } from "../api/schemas.js";
import { SignIn } from "../components/SignIn.js";
import { ChatApp } from "./ChatApp.js";

type State = { kind: "loading" } | { kind: "failed"; message: string } | { kind: "ready"; session: SessionView; notice: string | null };

export function App() {
  const [state, setState] = useState<State>({ kind: "loading" });

  const load = useCallback((notice: string | null) => {
    api
      .getSession()
      .then((session) => setState({ kind: "ready", session, notice }))
      .catch((err: unknown) => setState({ kind: "failed", message: errorWords(err) }));
  }, []);
  useEffect(() => load(null), [load]);

  const onSignedOut = useCallback(() => load("Your session has ended. Sign in again."), [load]);

  if (state.kind === "loading") return <p class="loading muted">Loading…</p>;
  if (state.kind === "failed") {
    return (
      <main class="sign-in">
        <p class="error" role="alert">
          {state.message}
        </p>
        <button type="button" onClick={() => load(null)}>
          Try again
        </button>
      </main>
    );
  }
  const { session } = state;
  if (!session.signed_in) {
    return <SignIn demo={session.demo} notice={state.notice} onSignedIn={(s) => setState({ kind: "ready", session: s, notice: null })} />;
  }
  return (
    <ChatApp
      session={session}
      onSignedOut={onSignedOut}
      onSignOut={() => {
        api
          .signOut()
          .then((s) => setState({ kind: "ready", session: s, notice: null }))
          .catch((err: unknown) => setState({ kind: "ready", session, notice: errorWords(err) }));
      }}
    />
  );
}
