/** Entry of the public leaderboard page (web/dist/leaderboard.html at /leaderboard): no sign-in. */
import { render } from "preact";
import "../styles/app.css";
import { applyTheme, initialTheme } from "../chat/theme.js";
import { LeaderboardView } from "./LeaderboardView.js";

applyTheme(initialTheme(), { remember: false });
render(<LeaderboardView />, document.getElementById("app")!);
