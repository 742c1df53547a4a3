/** Entry of the chat page (web/dist/index.html). */
import { render } from "preact";
import "../styles/app.css";
import { App } from "./App.js";
import { applyTheme, initialTheme } from "./theme.js";

applyTheme(initialTheme(), { remember: false });
render(<App />, document.getElementById("app")!);
