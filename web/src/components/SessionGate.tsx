/**
 * The signed-in pages' root (chat, arena): asks who the cookies sign in as, then shows the sign-in
 * form (with the public demo's entry when it runs) or the page, and takes the visitor back to the
 * form when the session ends.
 */
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import * as api from "../api/client.js";
import { errorWords } from "../api/errors.js";
import type { SessionView } from "../api/schemas.js";
import { SignIn } from "./SignIn.js";

type State = { kind: "loading" } | { kind: "failed"; message: string } | { kind: "ready"; session: SessionView; notice: string | null };

export interface SignedInProps {
  session: SessionView & { signed_in: true };
  /** Signs out (the Sign out button). */
  onSignOut: () => void;
  /** The gateway said the session is over (a 401): back to the form, saying so. */
  onSignedOut: () => void;
}

export function SessionGate({
  lead,
  signInExtra,
  offerDemo = true,
  children,
}: {
  lead?: string;
  signInExtra?: ComponentChildren;
  /** Whether the form offers the public demo when it runs (not on the operators' dashboard). */
  offerDemo?: boolean;
  children: (props: SignedInProps) => ComponentChildren;
}) {
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
    return (
      <SignIn demo={offerDemo && session.demo} notice={state.notice} lead={lead} onSignedIn={(s) => setState({ kind: "ready", session: s, notice: null })}>
        {signInExtra}
      </SignIn>
    );
  }
  return children({
    session,
    onSignedOut,
    onSignOut: () => {
      api
        .signOut()
        .then((s) => setState({ kind: "ready", session: s, notice: null }))
        .catch((err: unknown) => setState({ kind: "ready", session, notice: errorWords(err) }));
    },
  });
}
