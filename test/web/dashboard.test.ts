/**
 * The operators' dashboard in a real Chromium against a local stack with two simulated GPU
 * workers: served with the pages' security headers; an admin signs in and sees both workers;
 * draining one (after confirming) changes its state on the page without a reload, as the API
 * reports it; a non-admin key is refused with a message; once traffic has flowed the charts draw
 * lines on their canvases; a 375 px phone never scrolls sideways; axe-core light and dark.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import OpenAI from "openai";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { launchBrowser, maybeScreenshot, openPage, startWebStack } from "./browser.js";

const MODEL = "vicuna-13b-v1.5";

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

/**
 * Pixels of a chart's canvas drawn in the colour of its first line, in the canvas's top half: a
 * line at zero (no traffic) lies along the bottom, so only values above zero reach it.
 */
async function linePixelsInTopHalf(page: Page, chart: string): Promise<number> {
  return page.evaluate((name) => {
    const box = document.querySelector<HTMLElement>(`.chart-box[data-chart="${name}"]`);
    const canvas = box?.querySelector("canvas");
    const colour = box?.dataset.colours?.split(" ")[0];
    if (!box || !canvas || !colour) return -1;
    const probe = document.createElement("canvas").getContext("2d")!;
    probe.fillStyle = colour;
    probe.fillRect(0, 0, 1, 1);
    const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
    const ctx = canvas.getContext("2d")!;
    const { data } = ctx.getImageData(0, 0, canvas.width, Math.floor(canvas.height / 2));
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! > 200 && Math.abs(data[i]! - r!) < 40 && Math.abs(data[i + 1]! - g!) < 40 && Math.abs(data[i + 2]! - b!) < 40) count++;
    }
    return count;
  }, chart);
}

const summaryOf = (page: Page, title: string) => page.getByRole("figure", { name: title }).locator(".chart-summary");

let trafficSent = false;

/** Answers `count` short chat completions through the official SDK with the user key. */
async function traffic(count: number): Promise<void> {
  trafficSent = true;
  const client = new OpenAI({ apiKey: stack.userKey, baseURL: `${stack.url}/v1`, maxRetries: 0 });
  await Promise.all(
    Array.from({ length: count }, (_, i) => client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: `Question ${i}: what grows in the Altiplano?` }], max_tokens: 24 })),
  );
}

/** Some traffic for the tests that need charts with lines (when run alone, without the charts test). */
async function someTraffic(): Promise<void> {
  if (!trafficSent) await traffic(3);
}

describe("the dashboard's charts", () => {
  it("draw nothing above zero before traffic, then the requests and tokens once answers were given", async () => {
    const { page, problems, context } = await openPage(browser);
    await signInToDashboard(page, opsKey);
    const figures = page.getByRole("figure");
    await summaryOf(page, "Requests by outcome").waitFor();
    expect(await figures.evaluateAll((els) => els.map((el) => el.querySelector("figcaption")?.textContent))).toEqual([
      "Requests by outcome",
      "Tokens",
      "Time to first token",
      "Failovers",
    ]);
    expect(await page.locator(".chart canvas").count()).toBe(4);
    expect(await summaryOf(page, "Requests by outcome").textContent()).toBe("Last hour: 0 answered, 0 cancelled, 0 failed, 0 refused (429 or 503).");
    expect(await linePixelsInTopHalf(page, "requests-by-outcome")).toBe(0);
    expect(await summaryOf(page, "Time to first token").textContent()).toBe("Last hour: no first tokens yet.");

    await traffic(5);
    // No reload: the page's next polls bring the traffic.
    await expect.poll(() => summaryOf(page, "Requests by outcome").textContent(), { timeout: 30_000 }).toBe("Last hour: 5 answered, 0 cancelled, 0 failed, 0 refused (429 or 503).");
    expect(await linePixelsInTopHalf(page, "requests-by-outcome")).toBeGreaterThan(20);
    expect(await linePixelsInTopHalf(page, "tokens")).toBeGreaterThan(20);
    expect(await summaryOf(page, "Time to first token").textContent()).toMatch(/^Last hour: 5 first tokens; per minute, p50 at most \d+ ms and p99 at most [\d.]+ m?s\.$/);
    // p50 is drawn as a dot or line above zero too.
    expect(await linePixelsInTopHalf(page, "time-to-first-token")).toBeGreaterThan(0);

    // The last day: 5-minute steps, the same answers.
    await page.getByRole("button", { name: "Last day" }).click();
    await expect.poll(() => summaryOf(page, "Requests by outcome").textContent(), { timeout: 10_000 }).toBe("Last 24 hours: 5 answered, 0 cancelled, 0 failed, 0 refused (429 or 503).");
    expect(await page.getByText("In 5-minute steps").count()).toBe(1);
    await expect.poll(() => linePixelsInTopHalf(page, "requests-by-outcome")).toBeGreaterThan(20);
    expect(problems.errors).toEqual([]);
    await context.close();
  });
});

describe("polling", () => {
  it("asks for the pool at most every 2 s while visible, and not at all while the tab is hidden", async () => {
    const { page, problems, context } = await openPage(browser);
    await signInToDashboard(page, opsKey);
    await workerCard(page, "sim-1").waitFor();
    const poolCalls: number[] = [];
    page.on("request", (req) => {
      if (new URL(req.url()).pathname === "/admin/pool") poolCalls.push(Date.now());
    });
    await page.waitForTimeout(6_000);
    expect(poolCalls.length).toBeGreaterThanOrEqual(1);
    expect(poolCalls.length).toBeLessThanOrEqual(4);

    const setHidden = (hidden: boolean) =>
      page.evaluate((h) => {
        Object.defineProperty(document, "hidden", { configurable: true, get: () => h });
        Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (h ? "hidden" : "visible") });
        document.dispatchEvent(new Event("visibilitychange"));
      }, hidden);
    await setHidden(true);
    // A call already on its way may still land; none starts after it.
    await page.waitForTimeout(500);
    const hiddenFrom = Date.now();
    await page.waitForTimeout(5_000);
    expect(poolCalls.filter((t) => t >= hiddenFrom)).toEqual([]);
    const shownAt = Date.now();
    await setHidden(false);
    await expect.poll(() => poolCalls.filter((t) => t >= shownAt).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    expect(problems.errors).toEqual([]);
    await context.close();
  });
});

describe("on a phone", () => {
  it("fits 375 px without sideways scrolling: cards in one column, charts drawn to the width", async () => {
    await someTraffic();
    const { page, problems, context } = await openPage(browser, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    await signInToDashboard(page, opsKey);
    await workerCard(page, "sim-1").waitFor();
    await expect.poll(() => linePixelsInTopHalf(page, "requests-by-outcome"), { timeout: 15_000 }).toBeGreaterThan(10);
    const layout = await page.evaluate(() => ({
      scroll: document.scrollingElement!.scrollWidth,
      inner: innerWidth,
      main: document.querySelector(".dash-main")!.scrollWidth,
      mainClient: document.querySelector(".dash-main")!.clientWidth,
      cards: Array.from(document.querySelectorAll(".worker-card")).map((c) => c.getBoundingClientRect()),
      charts: Array.from(document.querySelectorAll(".chart canvas")).map((c) => c.getBoundingClientRect().right),
    }));
    expect(layout.scroll).toBeLessThanOrEqual(layout.inner);
    expect(layout.main).toBeLessThanOrEqual(layout.mainClient);
    expect(layout.cards).toHaveLength(2);
    // One column: the second card under the first.
    expect(layout.cards[1]!.top).toBeGreaterThanOrEqual(layout.cards[0]!.bottom);
    expect(Math.max(...layout.cards.map((c) => c.right))).toBeLessThanOrEqual(375);
    expect(layout.charts).toHaveLength(4);
    for (const right of layout.charts) expect(right).toBeLessThanOrEqual(375);
    // The page links, Dashboard among them, fit too.
    const nav = await page.getByRole("navigation", { name: "Pages" }).evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    expect(nav.scroll).toBeLessThanOrEqual(nav.client);
    expect(problems.errors).toEqual([]);
    await context.close();
  });
});

describe("accessibility", () => {
  it("has no serious or critical axe-core violations on the sign-in, the dashboard with traffic and an open confirmation, light and dark", async () => {
    await someTraffic();
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
      expect(passed).toEqual(expect.arrayContaining(["button-name", "color-contrast", "html-has-lang", "landmark-one-main"]));
      expect({ what, violations: violations.filter((v) => v.impact === "serious" || v.impact === "critical") }).toEqual({ what, violations: [] });
    };
    for (const colorScheme of ["light", "dark"] as const) {
      const { page, context } = await openPage(browser, { colorScheme });
      await page.goto(`${stack.url}/dashboard`);
      await page.getByLabel("API key").waitFor();
      expect(await page.getByRole("button", { name: "Chat without a key" }).count()).toBe(0);
      await audit(page, `sign-in (${colorScheme})`);
      await signInToDashboard(page, opsKey);
      await workerCard(page, "sim-1").waitFor();
      await expect.poll(() => linePixelsInTopHalf(page, "requests-by-outcome"), { timeout: 15_000 }).toBeGreaterThan(10);
      await audit(page, `dashboard (${colorScheme})`);
      await workerCard(page, "sim-1").getByRole("button", { name: "Remove" }).click();
      await audit(page, `confirm remove (${colorScheme})`);
      await workerCard(page, "sim-1").getByRole("button", { name: "Cancel" }).click();
      await context.close();
    }
  });
});

/**
 * The README's screenshots (WEB_SCREENSHOTS=1 only; CI leaves the tree clean): a few minutes of
 * mixed traffic — a user key, a bot key's end users, a key held to 4 requests a minute (so some
 * are refused), a worker answering 500s now and then (failovers), thumbs and flags — then the
 * whole dashboard, desktop and 375 px.
 */
/** The page's whole height (its main part scrolls inside the window), to screenshot it at once. */
async function fullHeight(page: Page): Promise<number> {
  return Math.ceil(await page.evaluate(() => document.querySelector(".topbar")!.getBoundingClientRect().height + document.querySelector(".dash-main")!.scrollHeight));
}

describe.runIf(process.env.WEB_SCREENSHOTS === "1")("screenshots", () => {
  it("saves docs/screenshots/dashboard.png and dashboard-mobile.png", { timeout: 420_000 }, async () => {
    const post = async (key: string, path: string, body: unknown): Promise<Response> =>
      fetch(`${stack.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const createKey = async (name: string, role: "user" | "bot", limits?: object): Promise<string> => {
      const res = await post(stack.adminKey, "/admin/keys", { name, role, ...(limits ? { limits } : {}) });
      return ((await res.json()) as { key: string }).key;
    };
    const botKey = await createKey("discord bot", "bot");
    const trialKey = await createKey("trial key", "user", { requests_per_minute: 4 });
    const ask = (key: string, extra: object = {}) =>
      post(key, "/v1/chat/completions", { model: MODEL, messages: [{ role: "user", content: "Name a crop of the Altiplano." }], max_tokens: 48, ...extra }).then((r) => r.status);

    // Feedback on a few stored answers.
    for (const [i, feedback] of [{ rating: "up" }, { rating: "up" }, { rating: "up" }, { rating: "down" }, { rating: "down", flagged: true, comment: "made up a fact" }].entries()) {
      const conversation = (await (await post(stack.userKey, "/v1/conversations", {})).json()) as { id: string };
      const reply = await post(stack.userKey, `/v1/conversations/${conversation.id}/messages`, { content: `Question ${i} about quinoa` });
      const messageId = reply.headers.get("x-message-id");
      await reply.text();
      if (messageId !== null) await post(stack.userKey, `/v1/conversations/${conversation.id}/messages/${messageId}/feedback`, feedback);
    }

    const users = ["discord:ana", "discord:bruno", "discord:carla", "discord:diego"];
    const started = Date.now();
    for (let round = 0; Date.now() - started < 200_000; round++) {
      const wave = 1 + Math.round(3 + 3 * Math.sin(round / 6));
      if (round % 15 === 5) await stack.sims[0]!.setFailure({ mode: "http-500", count: 2 });
      await Promise.all([
        ...Array.from({ length: wave }, () => ask(stack.userKey)),
        ...users.slice(0, 1 + (round % users.length)).map((user) => ask(botKey, { user })),
        ...(round % 4 === 0 ? [ask(trialKey), ask(trialKey), ask(trialKey)] : []),
      ]);
      await new Promise((r) => setTimeout(r, 2_500));
    }

    const { page, context } = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    await signInToDashboard(page, opsKey);
    await workerCard(page, "sim-1").waitFor();
    await page.getByRole("table", { name: "Keys by tokens used" }).waitFor();
    await expect.poll(() => linePixelsInTopHalf(page, "requests-by-outcome"), { timeout: 15_000 }).toBeGreaterThan(20);
    await page.setViewportSize({ width: 1280, height: await fullHeight(page) });
    await page.waitForTimeout(500);
    await maybeScreenshot(page, "dashboard");
    await context.close();

    const phone = await openPage(browser, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    await signInToDashboard(phone.page, opsKey);
    await workerCard(phone.page, "sim-1").waitFor();
    await expect.poll(() => linePixelsInTopHalf(phone.page, "requests-by-outcome"), { timeout: 15_000 }).toBeGreaterThan(10);
    // The phone's shot ends under the second chart: the pool, the models and two charts show how it reads.
    const secondChartBottom = await phone.page.evaluate(() => Math.ceil(document.querySelectorAll(".chart")[1]!.getBoundingClientRect().bottom + 12));
    await phone.page.setViewportSize({ width: 375, height: secondChartBottom });
    await phone.page.waitForTimeout(500);
    await maybeScreenshot(phone.page, "dashboard-mobile");
    await phone.context.close();
  });
});
