/** What a signed-in caller without the admin role sees on /dashboard: why not, and the way to another key. */
import type { SignedInProps } from "../components/SessionGate.js";

export function NotAnAdmin({ session, onSignOut }: Pick<SignedInProps, "session" | "onSignOut">) {
  const who = session.kind === "visitor" ? "A public demo visitor" : `The key “${session.name}” has the role ${session.role}; it`;
  return (
    <main class="sign-in">
      <div class="sign-in-card refused">
        <h1>Dashboard</h1>
        <p class="error" role="alert">
          This dashboard is for operators and needs an admin key. {who} cannot open it.
        </p>
        <p class="muted small">Sign out, then sign in with a key whose role is admin.</p>
        <div class="row">
          <button type="button" class="primary" onClick={onSignOut}>
            Sign out
          </button>
          <a href="/">Back to the chat</a>
        </div>
      </div>
    </main>
  );
}
