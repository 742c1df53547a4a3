/**
 * Entry of the shared-conversation page (web/dist/share.html at /share/{id}): the snapshot read
 * from the public `GET /v1/shares/{id}`, rendered with the chat page's Markdown renderer, read-only.
 */
import { render } from "preact";
import "../styles/app.css";
import { applyTheme, initialTheme } from "../chat/theme.js";
import { SharedView } from "./SharedView.js";

applyTheme(initialTheme(), { remember: false });
const shareId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() ?? "");
render(<SharedView shareId={shareId} />, document.getElementById("app")!);
