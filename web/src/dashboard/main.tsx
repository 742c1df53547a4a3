/**
 * Entry of the operators' dashboard (web/dist/dashboard.html at /dashboard): sign in with an
 * admin key (exchanged for the session cookie, as on the chat page); any other key or a demo
 * visitor is told the page needs an admin key.
 */
// First: uPlot reads navigator.language as it loads.
import "./language-guard.js";
import { render } from "preact";
import "uplot/dist/uPlot.min.css";
import "../styles/app.css";
import "./dashboard.css";
import { applyTheme, initialTheme } from "../chat/theme.js";
import { SessionGate } from "../components/SessionGate.js";
import { DashboardApp } from "./DashboardApp.js";
import { NotAnAdmin } from "./NotAnAdmin.js";

applyTheme(initialTheme(), { remember: false });
render(
  <SessionGate lead="The operators' dashboard: the GPU pool live, traffic, usage and feedback. Sign in with an admin key." offerDemo={false}>
    {(props) => (props.session.kind === "key" && props.session.role === "admin" ? <DashboardApp {...props} /> : <NotAnAdmin {...props} />)}
  </SessionGate>,
  document.getElementById("app")!,
);
