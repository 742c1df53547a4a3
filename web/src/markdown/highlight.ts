/**
 * Code highlighting: highlight.js's core with the languages people paste most, not its full
 * bundle (which alone would be most of the page's weight budget).
 */
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

const LANGUAGES = { bash, c, cpp, css, diff, go, java, javascript, json, markdown, python, rust, shell, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

/**
 * Longest code the page tries to guess the language of (guessing runs every registered grammar,
 * on every frame of a streaming reply); beyond it, unlabelled code stays plain.
 */
const AUTO_DETECT_MAX_CHARS = 5_000;

/**
 * Highlighted HTML for a code block (hljs escapes the text) and the language used: the fence's
 * label when it is one we know, else a guess among the registered languages, else none.
 */
export function highlightCode(code: string, label: string | undefined): { html: string; language: string | null } {
  const wanted = label?.trim().toLowerCase().split(/\s+/)[0] ?? "";
  if (wanted !== "" && hljs.getLanguage(wanted)) {
    const result = hljs.highlight(code, { language: wanted, ignoreIllegals: true });
    return { html: result.value, language: wanted };
  }
  if (wanted === "" && code.length <= AUTO_DETECT_MAX_CHARS) {
    const result = hljs.highlightAuto(code);
    if (result.language && result.relevance >= 5) return { html: result.value, language: result.language };
  }
  return { html: escapeHtml(code), language: wanted === "" ? null : wanted };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
