/**
 * The chat page in a real Chromium against the local stack, the simulator in echo mode (a reply
 * is the user's own text, token by token, 15 ms apart, so a stream can be watched and stopped):
 * signing in, streaming, code blocks, Stop, Regenerate, edit and resend, feedback, the
 * conversation list after a reload, and share links opened without a session.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { ConversationApi } from "../e2e/conversation-api.js";
import { conversationIdOf, launchBrowser, maybeScreenshot, openPage, sendMessage, signIn, startWebStack, transcript, waitForAnswer } from "./browser.js";

const MODEL = "vicuna-13b-v1.5";
/** A second model with a tiny window, so a few turns overflow it and old ones are dropped. */
const TINY = "vicuna-tiny";
const MODELS = [
  { id: MODEL, template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 512 },
  { id: TINY, template: "vicuna_v1.1", contextLength: 320, defaultMaxTokens: 48 },
];
let stack: Stack;
let browser: Browser;
let api: ConversationApi;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startWebStack({
      sims: 1,
      models: [MODEL, TINY],
      sim: { reply: "echo", ttftBaseMs: 20, prefillMsPerToken: 0, itlMs: 15, itlJitterMs: 0 },
      vars: { MODELS: JSON.stringify(MODELS) },
    }),
    launchBrowser(),
  ]);
  api = new ConversationApi(stack.url, stack.userKey);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A signed-in page in a fresh context. */
async function signedInPage(options: Parameters<typeof openPage>[1] = {}): Promise<{ page: Page; problems: { errors: string[] } }> {
  const { page, problems } = await openPage(browser, options);
  await signIn(page, stack.url, stack.userKey);
  return { page, problems };
}

const words = (n: number, prefix = "word"): string => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`).join(" ");

function lastReply(page: Page) {
  return page.getByRole("log").locator("article.assistant").last();
}

describe("the chat page", () => {
  it("refuses a wrong API key in words, signs in with the right one, and keeps the key nowhere in the browser", async () => {
    const { context, page, problems } = await openPage(browser);
    await page.goto(`${stack.url}/`);
    expect(await page.getByRole("button", { name: "Chat without a key" }).count()).toBe(0); // demo mode is off
    await page.getByLabel("API key").fill("sk-alt-not-a-real-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("That API key was not accepted");
    expect(await page.getByRole("textbox", { name: "Message" }).count()).toBe(0);

    await page.getByLabel("API key").fill(stack.userKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("textbox", { name: "Message" }).waitFor();
    expect(await page.getByRole("button", { name: "New chat" }).count()).toBe(1);

    const stored = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
    expect(stored).not.toContain(stack.userKey);
    expect(stored).not.toContain(stack.userKey.slice(8));
    const cookies = await context.cookies();
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) {
      expect(cookie.value).not.toContain(stack.userKey.slice(8));
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    }

    // Signing out ends the session: a reload shows the sign-in form again.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key").waitFor();
    await page.reload();
    await page.getByLabel("API key").waitFor();
    expect(problems.errors.filter((e) => !e.includes("401"))).toEqual([]);
    await context.close();
  });

  it("sends the visitor back to sign in, in words, when the session ends in another tab", async () => {
    const { context, page } = await openPage(browser);
    await signIn(page, stack.url, stack.userKey);
    const otherTab = await context.newPage();
    await otherTab.goto(`${stack.url}/`);
    await otherTab.getByRole("button", { name: "Sign out" }).click();
    await otherTab.getByLabel("API key").waitFor();

    await sendMessage(page, "Are you still there?");
    await page.getByLabel("API key").waitFor();
    expect(await page.getByRole("status").textContent()).toBe("Your session has ended. Sign in again.");
    await context.close();
  });

  it("shows the answer growing while it streams, then the whole reply", async () => {
    const { page, problems } = await signedInPage();
    const text = words(80);
    await sendMessage(page, text);
    const reply = lastReply(page);
    await reply.waitFor();
    // Sample the reply's visible length until it stops streaming.
    const lengths: number[] = [];
    for (;;) {
      const { length, busy } = await reply.evaluate((el) => ({ length: (el.querySelector(".markdown")?.textContent ?? "").length, busy: el.hasAttribute("aria-busy") }));
      lengths.push(length);
      if (!busy) break;
      await page.waitForTimeout(40);
    }
    const partials = new Set(lengths.filter((n) => n > 0 && n < text.length));
    expect(partials.size).toBeGreaterThanOrEqual(2);
    expect((await transcript(page)).map((m) => [m.author, m.text])).toEqual([
      ["You", text],
      [MODEL, text],
    ]);
    expect(problems.errors).toEqual([]);
  });

  it("renders a fenced code block highlighted, with a copy button that copies the code", async () => {
    const { page, problems } = await signedInPage({ permissions: ["clipboard-read", "clipboard-write"] });
    const code = 'def add(a, b):\n    """Adds two numbers."""\n    return a + b';
    await sendMessage(page, `Here is **Python**:\n\n- short\n- and *typed*\n\n\`\`\`python\n${code}\n\`\`\`\n\nCall \`add(1, 2)\`.`);
    await waitForAnswer(page);
    const block = lastReply(page).locator("pre code");
    expect(await block.getAttribute("class")).toContain("language-python");
    expect(await block.locator(".hljs-keyword").first().textContent()).toBe("def");
    expect(await block.locator(".hljs-string").count()).toBeGreaterThan(0);
    expect(await lastReply(page).locator("strong").textContent()).toBe("Python");
    expect(await lastReply(page).locator("li").count()).toBe(2);

    await lastReply(page).getByRole("button", { name: "Copy code" }).click();
    await lastReply(page).getByRole("button", { name: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);
    await maybeScreenshot(page, "chat");
    expect(problems.errors).toEqual([]);
  });

  it("Stop ends the answer mid-way: the partial stays, marked stopped, and the API stores it as cancelled", async () => {
    const { page } = await signedInPage();
    const text = words(300);
    await sendMessage(page, text);
    const reply = lastReply(page);
    await expect.poll(() => reply.locator(".markdown").textContent(), { timeout: 10_000 }).toMatch(/word\d/);
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await reply.getByText("Stopped", { exact: true }).waitFor();
    const partial = ((await reply.locator(".markdown").textContent()) ?? "").trim();
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(text.length);
    expect(text.startsWith(partial)).toBe(true);
    await page.getByRole("button", { name: "Send" }).waitFor();

    const id = conversationIdOf(page);
    await expect
      // The gateway stores the stop at once when workerd cancels the stream, else once the client
      // has taken nothing for CLIENT_STALL_TIMEOUT_MS (10 s): wait past that.
      .poll(async () => (await api.get(id)).messages.map((m) => [m.role, m.status]), { timeout: 20_000 })
      .toEqual([
        ["user", null],
        ["assistant", "cancelled"],
      ]);
    // A reload shows the stored partial, still marked stopped.
    await page.reload();
    await lastReply(page).getByText("Stopped", { exact: true }).waitFor();
  });

  it("Regenerate replaces the last reply (here a stopped one) with a new, whole one", async () => {
    const { page } = await signedInPage();
    const text = words(60, "llama");
    await sendMessage(page, text);
    await expect.poll(() => lastReply(page).locator(".markdown").textContent(), { timeout: 10_000 }).toMatch(/llama\d/);
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await lastReply(page).getByText("Stopped", { exact: true }).waitFor();
    const id = conversationIdOf(page);
    await expect.poll(async () => (await api.get(id)).messages[1]?.status, { timeout: 20_000 }).toBe("cancelled");
    const stoppedId = (await api.get(id)).messages[1]!.id;

    await page.getByRole("button", { name: "Regenerate" }).click();
    await waitForAnswer(page);
    expect((await transcript(page)).map((m) => [m.author, m.text])).toEqual([
      ["You", text],
      [MODEL, text],
    ]);
    expect(await lastReply(page).getByText("Stopped", { exact: true }).count()).toBe(0);
    const stored = (await api.get(id)).messages;
    expect(stored.map((m) => [m.role, m.status])).toEqual([
      ["user", null],
      ["assistant", "complete"],
    ]);
    expect(stored[1]!.id).not.toBe(stoppedId);
  });

  it("edits and resends the last message: the old exchange is replaced in the page and in the store", async () => {
    const { page } = await signedInPage();
    await sendMessage(page, "What is the capital of Peru?");
    await waitForAnswer(page);
    await sendMessage(page, "And of Bolivia?");
    await waitForAnswer(page);

    const lastUser = page.getByRole("log").locator("article.user").last();
    await lastUser.getByRole("button", { name: "Edit" }).click();
    const editor = page.getByRole("textbox", { name: "Edit message" });
    await editor.fill("And of Chile?");
    await page.getByRole("button", { name: "Send edit" }).click();
    await waitForAnswer(page);
    const expected = [
      ["You", "What is the capital of Peru?"],
      [MODEL, "What is the capital of Peru?"],
      ["You", "And of Chile?"],
      [MODEL, "And of Chile?"],
    ];
    expect((await transcript(page)).map((m) => [m.author, m.text])).toEqual(expected);
    const stored = await api.get(conversationIdOf(page));
    expect(stored.messages.map((m) => [m.role === "user" ? "You" : MODEL, m.content])).toEqual(expected);
    // Only the last user message offers Edit.
    expect(await page.getByRole("log").getByRole("button", { name: "Edit" }).count()).toBe(1);
  });

  it("a thumbs-up is stored with the message and read back through the API", async () => {
    const { page } = await signedInPage();
    // Typed key by key: Shift+Enter makes a newline, Enter sends.
    const box = page.getByRole("textbox", { name: "Message" });
    await box.pressSequentially("Rate this");
    await box.press("Shift+Enter");
    await box.pressSequentially("answer");
    expect(await page.getByRole("log").count()).toBe(0);
    await box.press("Enter");
    await waitForAnswer(page);
    expect((await transcript(page))[0]).toEqual({ author: "You", text: "Rate this\nanswer" });
    expect(await box.inputValue()).toBe("");
    const up = lastReply(page).getByRole("button", { name: "Thumbs up" });
    expect(await up.getAttribute("aria-pressed")).toBe("false");
    await up.click();
    await expect.poll(() => up.getAttribute("aria-pressed")).toBe("true");
    const id = conversationIdOf(page);
    await expect.poll(async () => (await api.get(id)).messages[1]?.feedback).toEqual({ rating: "up", flagged: false, comment: null });

    // A flag with a comment, then a reload: the page shows what the store holds.
    await lastReply(page).getByRole("button", { name: "Flag" }).click();
    await lastReply(page).getByRole("textbox", { name: "Comment (optional)" }).fill("Just repeats me.");
    await lastReply(page).getByRole("button", { name: "Save comment" }).click();
    await expect.poll(async () => (await api.get(id)).messages[1]?.feedback).toEqual({ rating: "up", flagged: true, comment: "Just repeats me." });
    await page.reload();
    await expect.poll(() => lastReply(page).getByRole("button", { name: "Thumbs up" }).getAttribute("aria-pressed")).toBe("true");
    expect(await lastReply(page).getByRole("button", { name: "Flag" }).getAttribute("aria-pressed")).toBe("true");
  });

  it("lists conversations newest first after a reload, reopens the one in the URL, renames and deletes", async () => {
    const { page } = await signedInPage();
    const first = `Alpaca facts ${Date.now()}`;
    const second = `Vicuna facts ${Date.now()}`;
    await sendMessage(page, first);
    await waitForAnswer(page);
    const firstId = conversationIdOf(page);
    await page.getByRole("button", { name: "New chat" }).click();
    await sendMessage(page, second);
    await waitForAnswer(page);
    const secondId = conversationIdOf(page);
    expect(secondId).not.toBe(firstId);

    await page.reload();
    const list = page.getByRole("navigation", { name: "Conversations" });
    await list.getByRole("link", { name: second }).waitFor();
    const titles = await list.getByRole("link").evaluateAll((links) => links.map((l) => l.querySelector(".conversation-title")?.textContent));
    expect(titles.indexOf(second)).toBeLessThan(titles.indexOf(first));
    expect(titles.indexOf(first)).toBeGreaterThanOrEqual(0);
    // The URL named the second chat, so the reload reopened it.
    expect((await transcript(page)).map((m) => m.text)).toEqual([second, second]);
    expect(await list.getByRole("link", { name: second }).getAttribute("aria-current")).toBe("page");

    await list.getByRole("link", { name: first }).click();
    await expect.poll(async () => (await transcript(page)).map((m) => m.text)).toEqual([first, first]);
    expect(conversationIdOf(page)).toBe(firstId);

    await page.getByRole("button", { name: "Rename" }).click();
    await page.getByRole("textbox", { name: "Chat title" }).fill("Renamed alpaca chat");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { name: "Renamed alpaca chat" }).waitFor();
    expect((await api.get(firstId)).metadata.title).toBe("Renamed alpaca chat");
    await page.reload();
    await list.getByRole("link", { name: "Renamed alpaca chat" }).waitFor();

    await page.getByRole("button", { name: "Delete chat" }).click();
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByRole("combobox", { name: "Model" }).waitFor();
    expect(await list.getByRole("link", { name: "Renamed alpaca chat" }).count()).toBe(0);
    expect((await api.raw("GET", `/v1/conversations/${firstId}`)).status).toBe(404);
  });

  it("a share link opens read-only in a fresh browser without a session, and stops working once revoked", async () => {
    const { page } = await signedInPage({ permissions: ["clipboard-read", "clipboard-write"] });
    await sendMessage(page, "Share this: `llamas` live in the **Andes**.");
    await waitForAnswer(page);
    await page.getByRole("button", { name: "Share" }).click();
    await page.getByRole("button", { name: "Create link" }).click();
    const url = await page.getByRole("textbox", { name: "Share link" }).inputValue();
    expect(url).toMatch(new RegExp(`^${stack.url}/share/shr_[A-Za-z0-9_-]+$`));
    await page.getByRole("button", { name: "Copy link" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);

    const visitor = await openPage(browser);
    await visitor.page.goto(url);
    await visitor.page.getByRole("heading", { level: 1, name: "Share this: llamas live in the Andes." }).waitFor();
    expect(await visitor.page.getByText(`Answered by ${MODEL}`).count()).toBe(1);
    const shared = visitor.page.getByRole("log");
    expect(await shared.locator("article").count()).toBe(2);
    expect(await shared.locator("article.assistant strong").textContent()).toBe("Andes");
    expect(await shared.locator("article.assistant code").textContent()).toBe("llamas");
    expect(await visitor.page.getByRole("link", { name: "Start your own chat" }).getAttribute("href")).toBe("/");
    expect(await visitor.page.getByRole("textbox").count()).toBe(0); // read-only
    expect(await visitor.context.cookies()).toEqual([]);
    await maybeScreenshot(visitor.page, "shared");
    expect(visitor.problems.errors).toEqual([]);

    await page.getByRole("button", { name: "Revoke link" }).click();
    await page.getByRole("button", { name: "Create link" }).waitFor();
    await visitor.page.reload();
    await visitor.page.getByRole("heading", { name: "This link does not work" }).waitFor();
    await visitor.context.close();
  });

  it("starts a chat with the chosen model and system prompt, and says when old turns were dropped to fit its window", async () => {
    const { page } = await signedInPage();
    const picker = page.getByRole("combobox", { name: "Model" });
    await expect.poll(async () => picker.locator("option").allTextContents()).toEqual([MODEL, TINY]);
    await picker.selectOption(TINY);
    await page.getByRole("textbox", { name: "System prompt (optional)" }).fill("Answer briefly.");
    const notices = page.getByRole("log").locator(".note");
    for (let turn = 1; turn <= 4 && (await notices.count()) === 0; turn++) {
      await sendMessage(page, `Turn ${turn}: ${words(40, "filler")}`);
      await waitForAnswer(page);
    }
    expect(await notices.last().textContent()).toMatch(/^\d+ older messages? (was|were) left out of this answer's context to fit the model's window\.$/);
    expect(await lastReply(page).getAttribute("aria-label")).toBe(TINY);
    const stored = await api.get(conversationIdOf(page));
    expect(stored).toMatchObject({ model: TINY, system_prompt: "Answer briefly." });
    await page.getByRole("log").getByText("System prompt", { exact: true }).click();
    expect(await page.getByRole("log").getByText("Answer briefly.").isVisible()).toBe(true);
  });

  it("says so in words when no GPU worker serves the chat's model, and the message goes back in the box", async () => {
    const { page } = await signedInPage();
    await page.getByRole("combobox", { name: "Model" }).selectOption(TINY);
    await sendMessage(page, "Hello, tiny model");
    await waitForAnswer(page);

    const tinyWorker = stack.workers.find((w) => w.model === TINY)!;
    await tinyWorker.kill();
    await expect.poll(async () => (await stack.pool()).workers.some((w) => w.id === tinyWorker.id && w.state === "ready"), { timeout: 15_000 }).toBe(false);
    try {
      await sendMessage(page, "Anyone there?");
      const banner = page.getByRole("alert");
      await expect.poll(() => banner.textContent(), { timeout: 15_000 }).toContain(`No GPU workers are available for ${TINY} right now.`);
      expect(await banner.textContent()).not.toContain("{");
      expect(await page.getByRole("textbox", { name: "Message" }).inputValue()).toBe("Anyone there?");
      expect((await transcript(page)).length).toBe(2);
    } finally {
      // Back to a full pool, so the file's other tests do not depend on running before this one.
      await stack.addWorker(`${tinyWorker.id}-again`, { model: TINY });
      await stack.waitForReady([`${tinyWorker.id}-again`]);
    }
  });
});
