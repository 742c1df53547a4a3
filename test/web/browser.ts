/**
 * The browser tests' harness: a real headless Chromium (the binary shipped inside the
 * @sparticuz/chromium npm package, so a fresh `npm install` has it) driven by playwright-core,
 * against a local stack whose gateway serves the built web app. Nothing leaves loopback.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";
import { startStack, type Stack, type StackOptions } from "../../scripts/stack.js";

/**
 * Our own flags, not @sparticuz/chromium's `args`: those include --disable-web-security and
 * --allow-running-insecure-content, which would switch off the very protections (same-origin
 * policy, CSP enforcement on mixed content) the XSS and CSP tests check.
 */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--no-zygote",
  "--disable-gpu",
  "--use-gl=angle",
  "--use-angle=swiftshader",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  "--disable-dev-shm-usage",
];

export async function launchBrowser(): Promise<Browser> {
  const sparticuz = (await import("@sparticuz/chromium")).default;
  return chromium.launch({ executablePath: await sparticuz.executablePath(), headless: true, args: CHROMIUM_ARGS });
}

/**
 * Starts a stack whose gateway serves the web app. The page is built once per test run by
 * vitest.config.ts (as `npm start` builds it before starting).
 */
export function startWebStack(options: StackOptions): Promise<Stack> {
  return startStack(options);
}

/** A page's console errors, uncaught exceptions and CSP violations, to assert none happened. */
export interface PageProblems {
  errors: string[];
}

/** A fresh context (no cookies) and page; `problems` collects what went wrong in it. */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, ...options });
  const page = await context.newPage();
  const problems: PageProblems = { errors: [] };
  page.on("console", (message) => {
    if (message.type() === "error") problems.errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.errors.push(`page error: ${error.message}`));
  return { context, page, problems };
}

/** Signs in on the page's sign-in form with `key` and waits for the chat. */
export async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("textbox", { name: "Message" }).waitFor();
}

/** The transcript's messages as articles: [author, visible text]. */
export async function transcript(page: Page): Promise<Array<{ author: string; text: string }>> {
  return page
    .getByRole("log")
    .locator("article")
    .evaluateAll((articles) => articles.map((a) => ({ author: a.getAttribute("aria-label") ?? "", text: (a.querySelector(".markdown, .user-text")?.textContent ?? "").trim() })));
}

/** Types a message in the "Message" box and sends it with Enter. */
export async function sendMessage(page: Page, text: string): Promise<void> {
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill(text);
  await box.press("Enter");
}

/**
 * Waits until the transcript ends with a reply that is no longer streaming; throws the page's
 * error instead if one shows (dismiss an earlier error before sending, or it counts).
 */
export async function waitForAnswer(page: Page, timeoutMs = 30_000): Promise<void> {
  const outcome = await page.waitForFunction(
    () => {
      const banner = document.querySelector(".banner");
      if (banner) return { error: banner.textContent ?? "" };
      const last = Array.from(document.querySelectorAll('[role="log"] article')).pop();
      const done = last !== undefined && last.classList.contains("assistant") && !last.hasAttribute("aria-busy");
      return done ? { error: null } : false;
    },
    undefined,
    { timeout: timeoutMs },
  );
  const { error } = (await outcome.jsonValue()) as { error: string | null };
  if (error !== null) throw new Error(`the page showed an error instead of an answer: ${error}`);
}

const SCREENSHOT_DIR = path.resolve(import.meta.dirname, "../../docs/screenshots");

/** Saves a screenshot to docs/screenshots/<name>.png, only when WEB_SCREENSHOTS=1 (CI leaves the tree clean). */
export async function maybeScreenshot(page: Page, name: string): Promise<void> {
  if (process.env.WEB_SCREENSHOTS !== "1") return;
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

/** The open conversation's id, from the page's URL (`#/c/<id>`). */
export function conversationIdOf(page: Page): string {
  const match = /#\/c\/([A-Za-z0-9_-]+)$/.exec(page.url());
  if (!match) throw new Error(`no conversation in the URL ${page.url()}`);
  return match[1]!;
}
