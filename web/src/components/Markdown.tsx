/**
 * A Markdown text rendered safely (markdown/render.ts), with a "Copy code" button on every code
 * block. The buttons are added to the DOM after the sanitized HTML is in place, so the sanitizer
 * never has to let a button through.
 */
import { useLayoutEffect, useMemo, useRef } from "preact/hooks";
import { renderMarkdown } from "../markdown/render.js";
import { copyText } from "./clipboard.js";

const COPIED_RESET_MS = 1_500;

function addCopyButtons(root: HTMLElement): void {
  for (const pre of Array.from(root.querySelectorAll("pre"))) {
    if (pre.parentElement?.classList.contains("code-block")) continue;
    const code = pre.querySelector("code");
    const language = /(?:^|\s)language-(\S+)/.exec(code?.className ?? "")?.[1] ?? "";
    const wrapper = document.createElement("div");
    wrapper.className = "code-block";
    const head = document.createElement("div");
    head.className = "code-head";
    const label = document.createElement("span");
    label.className = "code-lang";
    label.textContent = language || "code";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-code";
    button.textContent = "Copy code";
    head.append(label, button);
    pre.replaceWith(wrapper);
    wrapper.append(head, pre);
  }
}

async function onCopyClick(event: MouseEvent): Promise<void> {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return;
  const button = target.closest("button.copy-code");
  const code = button?.closest(".code-block")?.querySelector("pre code");
  if (!(button instanceof HTMLButtonElement) || !code) return;
  const ok = await copyText(code.textContent ?? "");
  button.textContent = ok ? "Copied" : "Copy failed";
  setTimeout(() => {
    button.textContent = "Copy code";
  }, COPIED_RESET_MS);
}

export function Markdown({ text }: { text: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    if (ref.current) addCopyButtons(ref.current);
  }, [html]);
  return <div class="markdown" ref={ref} onClick={(e) => void onCopyClick(e)} dangerouslySetInnerHTML={{ __html: html }} />;
}
