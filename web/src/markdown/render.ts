/**
 * Markdown to safe HTML, for replies (also while they stream) and shared pages: marked renders,
 * DOMPurify sanitizes, highlight.js colours code. Raw HTML inside the Markdown is shown as text,
 * images become links (nothing is fetched from other sites), links open in a new tab without
 * handing over the page, and `javascript:` or any other script-bearing URL never survives.
 */
import DOMPurify from "dompurify";
import { Marked } from "marked";
import { escapeHtml, highlightCode } from "./highlight.js";

const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    // A model (or a user quoting one) writing HTML means it as text to read, not markup to run.
    html({ text }) {
      return escapeHtml(text);
    },
    code({ text, lang }) {
      const { html, language } = highlightCode(text.replace(/\n$/, ""), lang);
      const langClass = language === null ? "" : ` language-${escapeHtml(language)}`;
      return `<pre><code class="hljs${langClass}">${html}</code></pre>\n`;
    },
    image({ href, text }) {
      return `<a href="${escapeHtml(href)}">${escapeHtml(text === "" ? href : `Image: ${text}`)}</a>`;
    },
  },
});

const SANITIZE: Parameters<typeof DOMPurify.sanitize>[1] = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "option", "iframe", "img", "video", "audio", "source", "picture"],
  FORBID_ATTR: ["style", "id", "name", "target", "srcset"],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
};

let hooksInstalled = false;
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName !== "A") return;
    const href = node.getAttribute("href");
    // Only ordinary web and mail links stay links; anything else becomes plain text in an <a>.
    if (href !== null && !/^(https?:|mailto:|#)/i.test(href.trim())) node.removeAttribute("href");
    if (node.hasAttribute("href") && !href!.trim().startsWith("#")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
}

/** Sanitized HTML for a Markdown text; safe to put into innerHTML. */
export function renderMarkdown(markdown: string): string {
  installHooks();
  const html = marked.parse(markdown) as string;
  return DOMPurify.sanitize(html, SANITIZE) as string;
}
