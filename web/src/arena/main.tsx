/** Entry of the arena page (web/dist/arena.html at /arena): sign-in as on the chat page, then the arena. */
import { render } from "preact";
import "../styles/app.css";
import { applyTheme, initialTheme } from "../chat/theme.js";
import { SessionGate } from "../components/SessionGate.js";
import { ArenaApp } from "./ArenaApp.js";

applyTheme(initialTheme(), { remember: false });
render(
  <SessionGate
    lead="Two anonymous models answer your question side by side; you vote for the better one."
    signInExtra={
      <p class="small sign-in-more">
        The <a href="/leaderboard">leaderboard</a> the votes make is public: no key needed.
      </p>
    }
  >
    {(props) => <ArenaApp {...props} />}
  </SessionGate>,
  document.getElementById("app")!,
);
