/**
 * Signing in: an API key is exchanged for an HttpOnly session cookie (`POST /auth/session`) and
 * forgotten at once — the page never stores it. In public demo mode a visitor may chat without one.
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import * as api from "../api/client.js";
import { ApiError, errorWords } from "../api/errors.js";
import type { SessionView } from "../api/schemas.js";

export function SignIn({
  demo,
  notice,
  lead,
  children,
  onSignedIn,
}: {
  demo: boolean;
  notice: string | null;
  lead?: string;
  /** Shown at the end of the card (a page's link for visitors without a key). */
  children?: ComponentChildren;
  onSignedIn: (session: SessionView) => void;
}) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (key.trim() === "" || pending) return;
    setPending(true);
    setError(null);
    try {
      const session = await api.signIn(key.trim());
      setKey("");
      onSignedIn(session);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? "That API key was not accepted. Check it and try again." : errorWords(err));
    } finally {
      setPending(false);
    }
  };

  const chatWithoutKey = async (): Promise<void> => {
    setPending(true);
    setError(null);
    try {
      onSignedIn(await api.startDemo());
    } catch (err) {
      setError(errorWords(err));
    } finally {
      setPending(false);
    }
  };

  return (
    <main class="sign-in">
      <div class="sign-in-card">
        <h1>Altiplano</h1>
        <p class="muted">{lead ?? "Chat with the models this gateway serves."}</p>
        {notice && <p class="notice" role="status">{notice}</p>}
        <form onSubmit={(e) => void submit(e)}>
          <label for="api-key">API key</label>
          <input
            id="api-key"
            type="password"
            autocomplete="off"
            spellcheck={false}
            placeholder="sk-…"
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
            aria-describedby={error ? "sign-in-error" : undefined}
            aria-invalid={error ? true : undefined}
          />
          <button type="submit" class="primary" disabled={pending || key.trim() === ""}>
            Sign in
          </button>
        </form>
        {error && (
          <p id="sign-in-error" class="error" role="alert">
            {error}
          </p>
        )}
        <p class="muted small">The key is exchanged for a session cookie and is not stored in this browser.</p>
        {demo && (
          <div class="demo-entry">
            <p>No key? This gateway runs a public demo.</p>
            <button type="button" onClick={() => void chatWithoutKey()} disabled={pending}>
              Chat without a key
            </button>
          </div>
        )}
        {children}
      </div>
    </main>
  );
}
