/**
 * "Share for training" on the chat page in a real Chromium against the local stack: the switch in
 * the open chat's header sets the conversation's `training_consent` (read back through the API
 * with the key), survives a reload, is withdrawn the same way, works from the keyboard, and a
 * refused change (the chat deleted meanwhile) is put back with an error in words.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { ConversationApi } from "../e2e/conversation-api.js";
import { conversationIdOf, launchBrowser, openPage, sendMessage, signIn, startWebStack, waitForAnswer } from "./browser.js";

let stack: Stack;
let browser: Browser;
let api: ConversationApi;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startWebStack({ sims: 1, sim: { reply: "echo", ttftBaseMs: 20, prefillMsPerToken: 0, itlMs: 2, itlJitterMs: 0 } }), launchBrowser()]);
  api = new ConversationApi(stack.url, stack.userKey);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Header screenshots for a person to look at, only when CONSENT_SCREENSHOTS names a folder (e.g. /tmp). */
async function headerShot(page: Page, name: string, width: number, height: number): Promise<void> {
  const dir = process.env.CONSENT_SCREENSHOTS;
  if (dir) await page.screenshot({ path: `${dir}/${name}.png`, clip: { x: 0, y: 0, width, height } });
}

const consentSwitch = (page: Page) => page.getByRole("switch", { name: "Share for training" });

/** A signed-in page with a fresh chat holding one answered message; returns its conversation id. */
async function chatWithOneAnswer(page: Page, text: string): Promise<string> {
  await signIn(page, stack.url, stack.userKey);
  await sendMessage(page, text);
  await waitForAnswer(page);
  return conversationIdOf(page);
}

const consentOf = async (id: string): Promise<boolean> => (await api.get(id)).training_consent;

describe("Share for training", () => {
  it("turns on and off through the API, survives a reload, and is described to assistive technology", async () => {
    const { context, page, problems } = await openPage(browser);
    const id = await chatWithOneAnswer(page, "Llamas and training data");
    // A new chat takes the key's default (off): the page sends no training_consent on create.
    expect(await consentOf(id)).toBe(false);
    const toggle = consentSwitch(page);
    expect(await toggle.isChecked()).toBe(false);
    const help = await toggle.getAttribute("aria-describedby");
    expect(await page.locator(`#${help}`).textContent()).toBe("Allow this chat to be exported as training data. You can withdraw it any time.");
    expect(await page.locator(".consent-switch").getAttribute("title")).toBe("Allow this chat to be exported as training data. You can withdraw it any time.");

    await headerShot(page, "consent-desktop-off", 1200, 140);
    await toggle.click();
    await expect.poll(() => consentOf(id), { timeout: 10_000 }).toBe(true);
    expect(await toggle.isChecked()).toBe(true);
    if (process.env.CONSENT_SCREENSHOTS) await page.waitForTimeout(300); // the switch's slide
    await headerShot(page, "consent-desktop-on", 1200, 140);

    await page.reload();
    await consentSwitch(page).waitFor();
    expect(await consentSwitch(page).isChecked()).toBe(true);

    await consentSwitch(page).click();
    await expect.poll(() => consentOf(id), { timeout: 10_000 }).toBe(false);
    expect(await consentSwitch(page).isChecked()).toBe(false);
    expect(await page.locator(".banner").count()).toBe(0);
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it("works from the keyboard, also when reached while the first answer is still being written", async () => {
    const { context, page } = await openPage(browser);
    await signIn(page, stack.url, stack.userKey);
    await sendMessage(page, "Keyboard only");
    // The switch appears with the new chat; a keyboard user moves to it while the answer streams.
    await consentSwitch(page).focus();
    await waitForAnswer(page);
    // The chat is titled after its first answer; only then is sending done. Focus must not have
    // been taken back to the message box (it was, and the Space below went into the box).
    await page.getByRole("heading", { name: "Keyboard only" }).waitFor();
    expect(await consentSwitch(page).evaluate((el) => el === document.activeElement)).toBe(true);
    const id = await conversationIdOf(page);
    await page.keyboard.press("Space");
    await expect.poll(() => consentOf(id), { timeout: 10_000 }).toBe(true);
    expect(await consentSwitch(page).isChecked()).toBe(true);
    await consentSwitch(page).press("Space");
    await expect.poll(() => consentOf(id), { timeout: 10_000 }).toBe(false);
    await context.close();
  });

  it("puts the switch back and says so when the change is refused", async () => {
    const { context, page } = await openPage(browser);
    const id = await chatWithOneAnswer(page, "Soon deleted elsewhere");
    const res = await fetch(`${stack.url}/v1/conversations/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${stack.userKey}` } });
    expect(res.status).toBe(200);

    await consentSwitch(page).click();
    const banner = page.locator(".banner[role=alert]");
    await banner.waitFor();
    expect(await banner.textContent()).toContain("Sharing for training was not changed: this chat was not found.");
    await expect.poll(() => consentSwitch(page).isChecked(), { timeout: 10_000 }).toBe(false);
    await context.close();
  });

  it("fits the header at 375 px", async () => {
    const { context, page } = await openPage(browser, { viewport: { width: 375, height: 740 } });
    await chatWithOneAnswer(page, "A chat with a rather long first message to make a long title");
    const toggle = consentSwitch(page);
    await toggle.click();
    await expect.poll(() => toggle.isChecked(), { timeout: 10_000 }).toBe(true);
    if (process.env.CONSENT_SCREENSHOTS) await page.waitForTimeout(300); // the switch's slide
    await headerShot(page, "consent-375", 375, 200);
    const header = await page.locator(".chat-header").boundingBox();
    const sw = await page.locator(".consent-switch label").boundingBox();
    const actions = await page.locator(".header-actions").boundingBox();
    expect(header && sw && actions).toBeTruthy();
    // Everything inside the viewport, no horizontal scroll.
    expect(sw!.x).toBeGreaterThanOrEqual(0);
    expect(actions!.x + actions!.width).toBeLessThanOrEqual(375);
    // On a phone the switch has a row of its own under the title, so the title keeps its width.
    expect(sw!.y).toBeGreaterThanOrEqual(actions!.y + actions!.height - 1);
    expect(sw!.y + sw!.height).toBeLessThanOrEqual(header!.y + header!.height);
    const title = await page.locator(".chat-title").boundingBox();
    expect(title!.width).toBeGreaterThan(200);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await context.close();
  });
});
