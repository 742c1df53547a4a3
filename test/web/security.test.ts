/**
 * What the page must never do and where it must still work: markup smuggled in a message or a
 * reply (echo mode: the model repeats the user's text) renders as text and runs nothing under
 * the page's CSP; a 375 px wide phone never scrolls sideways; axe-core finds no serious or
 * critical accessibility violations, light or dark.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { launchBrowser, maybeScreenshot, openPage, sendMessage, signIn, startWebStack, waitForAnswer } from "./browser.js";

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startWebStack({ sims: 1, sim: { reply: "echo", fast: true } }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Each line tries to run script (setting window.__xss) or load something, in HTML or Markdown. */
const PAYLOAD = [
  `<img src=x onerror="window.__xss='img'">`,
  `<script>window.__xss='script'</script>`,
  `<svg onload="window.__xss='svg'"></svg>`,
  `<iframe src="javascript:window.__xss='iframe'"></iframe>`,
  `<a href="javascript:window.__xss='a-tag'">raw html link</a>`,
  `[markdown link](javascript:window.__xss='md-link')`,
  `[mixed case](JaVaScRiPt:window.__xss='case')`,
  `[entity](&#106;avascript:window.__xss='entity')`,
  `[angle](<javascript:window.__xss='angle'>)`,
  `<javascript:window.__xss='autolink'>`,
  `[ref link][evil]`,
  `[evil]: javascript:window.__xss='reference'`,
  `![image](x" onerror="window.__xss='image')`,
  `[data url](data:text/html,<script>window.__xss='data'</script>)`,
  `<details open ontoggle="window.__xss='details'">x</details>`,
  `<style>body{display:none}</style>`,
  `<p style="position:fixed;inset:0">styled</p>`,
  `<a href="https://example.com/" target="_self" onclick="window.__xss='onclick'">an ordinary link</a> and [another](https://example.com/docs)`,
].join("\n\n"); // blank lines: each line its own block, so one HTML line cannot swallow the rest

async function noScriptRan(page: Page): Promise<unknown> {
  return page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss);
}

describe("the page is safe and usable", () => {
  it("renders user text and an echoed reply full of markup and script URLs as inert text, running nothing", async () => {
    const { page, problems } = await openPage(browser);
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await signIn(page, stack.url, stack.userKey);
    await sendMessage(page, PAYLOAD);
    await waitForAnswer(page);

    const log = page.getByRole("log");
    const user = log.locator("article.user");
    const reply = log.locator("article.assistant");
    // The user's text is shown exactly as typed; the reply's raw HTML shows as text too.
    expect(await user.locator(".user-text").textContent()).toBe(PAYLOAD);
    const replyText = (await reply.locator(".markdown").textContent()) ?? "";
    expect(replyText).toContain(`<img src=x onerror="window.__xss='img'">`);
    expect(replyText).toContain(`<script>window.__xss='script'</script>`);
    // Nothing active or loading came out of either message.
    for (const message of [user, reply]) {
      expect(await message.locator("img, script, svg:not(.icon), iframe, object, embed, style, details, form, input, [style]").count()).toBe(0);
      expect(await message.locator("[onerror], [onload], [ontoggle]").count()).toBe(0);
    }
    const hrefs = await reply.locator("a").evaluateAll((links) => links.map((a) => a.getAttribute("href")));
    expect(hrefs.length).toBeGreaterThan(3);
    for (const href of hrefs) if (href !== null) expect(href).toMatch(/^(https?:|mailto:|#)/);
    expect(await reply.locator('a[href]:not([rel="noopener noreferrer"])').count()).toBe(0);

    // Clicking every link in the reply runs nothing either.
    const links = await reply.locator("a").all();
    for (const link of links) await link.click({ noWaitAfter: true, modifiers: [] }).catch(() => undefined);
    await page.waitForTimeout(300);
    expect(await noScriptRan(page)).toBeUndefined();
    expect(dialogs).toEqual([]);
    // No element anywhere carries an inline style (the CSP would refuse it), and none was refused.
    expect(await page.locator("[style]").count()).toBe(0);
    expect(problems.errors.filter((e) => /Content Security Policy|Refused/i.test(e))).toEqual([]);

    // The stored reply reloads just as inert.
    await page.reload();
    await page.getByRole("log").locator("article.assistant").waitFor();
    expect(await noScriptRan(page)).toBeUndefined();
    expect(await page.getByRole("log").locator("img, script, iframe").count()).toBe(0);
  });

  it("serves its pages with a strict Content-Security-Policy and nosniff", async () => {
    for (const path of ["/", "/share/shr_doesnotexist"]) {
      const res = await fetch(`${stack.url}${path}`);
      expect(res.status).toBe(200);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      // No inline script or style in the HTML itself.
      const html = await res.text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/\sstyle=/);
    }
  });

  it("fits a 375×740 phone without sideways scrolling: long code scrolls in its block, the list is a drawer", async () => {
    const { page, problems } = await openPage(browser, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    await signIn(page, stack.url, stack.userKey);
    const longLine = `const result = ${"someFunctionName(argument) + ".repeat(12)}1;`;
    await sendMessage(page, `A long word: ${"x".repeat(120)} and a link https://example.com/${"segment/".repeat(20)}\n\n\`\`\`js\n${longLine}\n\`\`\``);
    await waitForAnswer(page);
    const widths = await page.evaluate(() => ({ scroll: document.scrollingElement!.scrollWidth, inner: innerWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.inner);
    const pre = page.getByRole("log").locator("article.assistant pre");
    const preBox = await pre.evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, right: el.getBoundingClientRect().right }));
    expect(preBox.scrollWidth).toBeGreaterThan(preBox.clientWidth); // the code scrolls inside its block
    expect(preBox.right).toBeLessThanOrEqual(375);

    // The conversation list is a closed drawer until the menu button opens it.
    const nav = page.getByRole("navigation", { name: "Conversations" });
    expect(await nav.isVisible()).toBe(false);
    await maybeScreenshot(page, "mobile");
    const menu = page.getByRole("button", { name: "Conversations" });
    await menu.click();
    await expect.poll(() => nav.isVisible()).toBe(true);
    expect(await menu.getAttribute("aria-expanded")).toBe("true");
    expect(await page.evaluate(() => document.scrollingElement!.scrollWidth <= innerWidth)).toBe(true);
    await nav.getByRole("button", { name: "New chat" }).click();
    await expect.poll(() => nav.isVisible()).toBe(false);
    expect(problems.errors).toEqual([]);
  });

  it("has no serious or critical axe-core violations on the sign-in, chat and shared pages, light and dark", async () => {
    // axe is evaluated through the DevTools protocol (page.evaluate), which the page's CSP does
    // not govern, so the pages are checked under the very CSP they are served with.
    const axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
    const audit = async (page: Page, what: string): Promise<void> => {
      await page.evaluate(axeSource);
      const { passed, violations } = await page.evaluate(async () => {
        type Rule = { id: string; impact: string | null; nodes: Array<{ target: unknown }> };
        const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ passes: Rule[]; violations: Rule[] }> } }).axe;
        const result = await axe.run(document, { resultTypes: ["violations"] });
        return {
          passed: result.passes.map((r) => r.id),
          violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) })),
        };
      });
      // axe really looked: the rules that matter here ran and passed.
      expect(passed).toEqual(expect.arrayContaining(["button-name", "color-contrast", "html-has-lang", "landmark-one-main"]));
      expect({ what, violations: violations.filter((v) => v.impact === "serious" || v.impact === "critical") }).toEqual({ what, violations: [] });
    };

    for (const colorScheme of ["light", "dark"] as const) {
      const { page, context } = await openPage(browser, { colorScheme });
      await page.goto(`${stack.url}/`);
      await page.getByLabel("API key").waitFor();
      await audit(page, `sign-in (${colorScheme})`);
      await signIn(page, stack.url, stack.userKey);
      await audit(page, `new chat (${colorScheme})`);
      await sendMessage(page, "# Heading\n\nSome *text*, a [link](https://example.com), `code`:\n\n```ts\nconst x: number = 1;\n```\n\n> a quote");
      await waitForAnswer(page);
      await page.getByRole("log").locator("article.assistant").getByRole("button", { name: "Thumbs down" }).click();
      await page.getByRole("button", { name: "Share" }).click();
      await page.getByRole("button", { name: "Create link" }).click();
      const url = await page.getByRole("textbox", { name: "Share link" }).inputValue();
      await audit(page, `chat with a reply, feedback and share panel (${colorScheme})`);
      await page.goto(url);
      await page.getByText("Start your own chat").waitFor();
      await page.getByRole("log").locator("article").first().waitFor();
      await audit(page, `shared page (${colorScheme})`);
      await context.close();
    }
  });

  it("follows the system's light or dark theme until the toggle picks one, and remembers the pick", async () => {
    const { page, context } = await openPage(browser, { colorScheme: "dark" });
    await page.goto(`${stack.url}/`);
    await page.getByLabel("API key").waitFor();
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const darkBackground = await background();
    await signIn(page, stack.url, stack.userKey);
    const toggle = page.getByRole("button", { name: "Dark theme" });
    expect(await toggle.getAttribute("aria-pressed")).toBe("true");
    await toggle.click();
    expect(await toggle.getAttribute("aria-pressed")).toBe("false");
    const lightBackground = await background();
    expect(lightBackground).not.toBe(darkBackground);
    await page.reload();
    await page.getByRole("button", { name: "Dark theme" }).waitFor();
    expect(await background()).toBe(lightBackground);
    await context.close();
  });
});
