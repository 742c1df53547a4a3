/**
 * Public demo mode in a real browser: two visitors (two browser contexts, no key) each chat as
 * an anonymous end user of the demo's bot key — neither sees the other's conversations, and each
 * meets its own end-user request limit, told in words when to try again.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { conversationIdOf, launchBrowser, openPage, sendMessage, startWebStack, transcript, waitForAnswer } from "./browser.js";

/** Turns each visitor may start per minute (END_USER_LIMIT_REQUESTS_PER_MINUTE). */
const VISITOR_TURNS_PER_MINUTE = 2;
let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startWebStack({
      sims: 1,
      sim: { reply: "echo", fast: true },
      publicDemo: true,
      vars: { END_USER_LIMIT_REQUESTS_PER_MINUTE: String(VISITOR_TURNS_PER_MINUTE) },
    }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function visitor(): Promise<Page> {
  const { page } = await openPage(browser);
  await page.goto(`${stack.url}/`);
  await page.getByRole("button", { name: "Chat without a key" }).click();
  await page.getByRole("textbox", { name: "Message" }).waitFor();
  return page;
}

async function listedTitles(page: Page): Promise<string[]> {
  return page
    .getByRole("navigation", { name: "Conversations" })
    .locator(".conversation-title")
    .allTextContents();
}

describe("public demo mode", () => {
  it("gives two visitors private chats and each its own limit", async () => {
    const alice = await visitor();
    const bob = await visitor();

    await sendMessage(alice, "Alice asks about alpacas");
    await waitForAnswer(alice);
    const aliceChat = conversationIdOf(alice);
    await sendMessage(bob, "Bob asks about vicuñas");
    await waitForAnswer(bob);

    await alice.reload();
    await bob.reload();
    await expect.poll(() => listedTitles(alice)).toEqual(["Alice asks about alpacas"]);
    await expect.poll(() => listedTitles(bob)).toEqual(["Bob asks about vicuñas"]);

    // Bob cannot open Alice's chat even with its id in the URL.
    await bob.goto(`${stack.url}/#/c/${aliceChat}`);
    await expect.poll(() => bob.getByRole("alert").textContent()).toMatch(/not found|does not exist/i);
    expect(await bob.getByRole("log").count()).toBe(0);
    await bob.getByRole("button", { name: "Dismiss" }).click();
    // Nor through the API with his cookie.
    expect(await bob.evaluate(async (id) => (await fetch(`/v1/conversations/${id}`)).status, aliceChat)).toBe(404);

    // Alice uses up her turns for the minute; the next is refused in words, with when to retry.
    await alice.goto(`${stack.url}/#/c/${aliceChat}`);
    await expect.poll(async () => (await transcript(alice)).length).toBe(2);
    for (let turn = 2; turn <= VISITOR_TURNS_PER_MINUTE; turn++) {
      await sendMessage(alice, `Alice turn ${turn}`);
      await waitForAnswer(alice);
    }
    await sendMessage(alice, "One turn too many");
    const alert = alice.locator(".banner");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/usage limit\. Try again in \d+ s\./);
    // The refused message goes back into the box, and nothing was added to the chat.
    expect(await alice.getByRole("textbox", { name: "Message" }).inputValue()).toBe("One turn too many");
    expect((await transcript(alice)).length).toBe(2 * VISITOR_TURNS_PER_MINUTE);

    // Bob's limit is his own: he still has a turn left.
    await sendMessage(bob, "Bob is not limited by Alice");
    await waitForAnswer(bob);
    expect((await transcript(bob)).map((m) => m.text)).toContain("Bob is not limited by Alice");
  });
});
