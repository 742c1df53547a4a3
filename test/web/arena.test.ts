/**
 * The arena and leaderboard pages in a real Chromium against a local stack with two arena models
 * (simulators in lorem mode, every reply MAX_TOKENS tokens 15 ms apart, so both streams can be
 * watched): signing in, both panes streaming at once, no model named before the vote, a follow-up,
 * the vote that names the models (read back through the API), a side that fails, the leaderboard
 * opened without a session after an admin recompute, a 375 px phone, and axe-core.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import type { ArenaBattleWithMessages, ArenaLeaderboard, ArenaWinner } from "../../wire/arena.js";
import { launchBrowser, maybeScreenshot, openPage, startWebStack } from "./browser.js";

const BIG = "vicuna-13b-v1.5";
const SMALL = "vicuna-7b-v1.5";
const NAMES = [BIG, SMALL];
/** Tokens per reply: long enough to watch grow (≈ 1.2 s at 15 ms a token), short enough to keep the test quick. */
const MAX_TOKENS = 80;
const MODELS = NAMES.map((id) => ({
  id,
  template: "vicuna_v1.1",
  contextLength: 4096,
  defaultMaxTokens: MAX_TOKENS,
  arena: { weight: 1, identityWords: ["vicuna"] },
}));

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startWebStack({
      sims: 1,
      models: [BIG],
      sim: { reply: "lorem", replyLength: "max", ttftBaseMs: 20, prefillMsPerToken: 0, itlMs: 15, itlJitterMs: 0 },
      vars: { MODELS: JSON.stringify(MODELS) },
    }),
    launchBrowser(),
  ]);
  // The second model's worker gets its own seed: simulators that share one draw the same "random"
  // lorem for their first requests, and the two panes would read word for word alike.
  await stack.addWorker("sim-small", { model: SMALL, seed: 7 });
  await stack.waitForReady(["sim-small"]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Every vote cast in this file, as the API reports the battle after it: which model won, lost, or tied with which. */
const votes: Array<{ a: string; b: string; winner: ArenaWinner }> = [];

async function api<T>(method: string, path: string, key: string | null, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${stack.url}${path}`, {
    method,
    headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as T };
}

/** Signs in on /arena's own sign-in form and waits for the question box. */
async function signInToArena(page: Page): Promise<void> {
  await page.goto(`${stack.url}/arena`);
  await page.getByLabel("API key").fill(stack.userKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("textbox", { name: "Question" }).waitFor();
}

async function ask(page: Page, question: string): Promise<void> {
  const box = page.getByRole("textbox", { name: "Question" });
  await box.fill(question);
  await box.press("Enter");
}

const pane = (page: Page, slot: "A" | "B") => page.getByRole("region", { name: `Model ${slot}` });

/** Waits until neither pane has an answer still streaming; throws the page's error banner instead if one shows. */
async function waitForBothAnswers(page: Page, timeoutMs = 30_000): Promise<void> {
  const outcome = await page.waitForFunction(
    () => {
      const banner = document.querySelector(".banner");
      if (banner) return { error: banner.textContent ?? "" };
      const answers = document.querySelectorAll(".arena-pane article.assistant");
      const done = answers.length > 0 && Array.from(answers).every((a) => !a.hasAttribute("aria-busy"));
      return done ? { error: null } : false;
    },
    undefined,
    { timeout: timeoutMs },
  );
  const { error } = (await outcome.jsonValue()) as { error: string | null };
  if (error !== null) throw new Error(`the page showed an error instead of two answers: ${error}`);
}

function battleIdOf(page: Page): string {
  const match = /#\/b\/([A-Za-z0-9_-]+)$/.exec(page.url());
  if (!match) throw new Error(`no battle in the URL ${page.url()}`);
  return match[1]!;
}

/** Everything the page shows or keeps where a reader could see it: its text, title, URL and attributes. */
async function visibleEverywhere(page: Page): Promise<string> {
  return page.evaluate(() => {
    const attributes = Array.from(document.querySelectorAll("*")).flatMap((el) => Array.from(el.attributes).map((a) => a.value));
    return [document.title, location.href, document.body.innerText, ...attributes].join("\n");
  });
}

describe("the arena page", () => {
  it("is served, like the leaderboard, with the chat page's security headers and no inline script or style", async () => {
    const chat = await fetch(`${stack.url}/`);
    const SECURITY = ["content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy", "cross-origin-opener-policy", "cache-control"];
    for (const path of ["/arena", "/leaderboard"]) {
      const res = await fetch(`${stack.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      for (const name of SECURITY) expect([path, name, res.headers.get(name)]).toEqual([path, name, chat.headers.get(name)]);
      const html = await res.text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/\sstyle=/);
    }
    expect(chat.headers.get("content-security-policy")).toContain("script-src 'self'");
  });

  it("streams both answers at once, names no model until the vote, takes a follow-up, and the vote names both models", async () => {
    const { page, problems } = await openPage(browser);
    await signInToArena(page);
    const nav = page.getByRole("navigation", { name: "Pages" });
    expect(await nav.getByRole("link").allTextContents()).toEqual(["Chat", "Arena", "Leaderboard"]);
    expect(await nav.getByRole("link", { name: "Arena" }).getAttribute("aria-current")).toBe("page");
    const votesButtons = () => page.getByRole("group", { name: "Your vote" }).getByRole("button");

    await ask(page, "Which animal of the Andes has the finest wool, and why?");
    // Sample both panes' answers until neither streams: each must be seen part-way more than once,
    // and both part-way at the same moment (they stream together, not one after the other).
    const samples: Array<{ a: number; b: number; busyA: boolean; busyB: boolean; named: boolean }> = [];
    for (const started = Date.now(); Date.now() - started < 30_000; ) {
      const sample = await page.evaluate((names) => {
        const answer = (slot: string) => document.querySelector(`.arena-pane[data-slot="${slot}"] article.assistant`);
        const a = answer("a");
        const b = answer("b");
        const text = document.body.innerText + document.title;
        return {
          a: (a?.querySelector(".markdown")?.textContent ?? "").length,
          b: (b?.querySelector(".markdown")?.textContent ?? "").length,
          busyA: a === null || a.hasAttribute("aria-busy"),
          busyB: b === null || b.hasAttribute("aria-busy"),
          named: names.some((n) => text.includes(n)),
        };
      }, NAMES);
      samples.push(sample);
      if (!sample.busyA && !sample.busyB) break;
      await page.waitForTimeout(30);
    }
    const last = samples[samples.length - 1]!;
    expect(last.busyA || last.busyB, "both answers ended").toBe(false);
    const partialA = new Set(samples.filter((s) => s.busyA && s.a > 0 && s.a < last.a).map((s) => s.a));
    const partialB = new Set(samples.filter((s) => s.busyB && s.b > 0 && s.b < last.b).map((s) => s.b));
    expect(partialA.size, "partial lengths seen in pane A").toBeGreaterThanOrEqual(2);
    expect(partialB.size, "partial lengths seen in pane B").toBeGreaterThanOrEqual(2);
    expect(samples.some((s) => s.busyA && s.busyB && s.a > 0 && s.b > 0), "both panes part-way at once").toBe(true);
    expect(samples.some((s) => s.named), "a model name showed while streaming").toBe(false);

    // Both answers ended: the vote opens, and still nothing names a model — not the page, not the API.
    await expect.poll(async () => (await votesButtons().evaluateAll((bs) => bs.map((b) => (b as HTMLButtonElement).disabled))).every((d) => !d)).toBe(true);
    expect(await votesButtons().allTextContents()).toEqual(["A is better", "B is better", "Tie", "Both are bad"]);
    const battleId = battleIdOf(page);
    const seen = await visibleEverywhere(page);
    for (const name of NAMES) expect(seen).not.toContain(name);
    const before = await api<ArenaBattleWithMessages>("GET", `/v1/arena/battles/${battleId}`, stack.userKey);
    expect(before.status).toBe(200);
    expect([before.json.status, before.json.a.model, before.json.b.model, before.json.vote]).toEqual(["open", null, null, null]);

    // A follow-up goes to both sides; the first answers stay.
    const firstA = await pane(page, "A").locator("article.assistant .markdown").first().textContent();
    await ask(page, "And how is it shorn?");
    await waitForBothAnswers(page);
    for (const slot of ["A", "B"] as const) {
      const questions = await pane(page, slot).locator("article.user").allTextContents();
      expect(questions).toEqual(["Which animal of the Andes has the finest wool, and why?", "And how is it shorn?"]);
      const answers = await pane(page, slot).locator("article.assistant .markdown").allTextContents();
      expect(answers).toHaveLength(2);
      for (const answer of answers) expect(answer.trim().length).toBeGreaterThan(20);
    }
    expect(await pane(page, "A").locator("article.assistant .markdown").first().textContent()).toBe(firstA);
    const stored = await api<ArenaBattleWithMessages>("GET", `/v1/arena/battles/${battleId}`, stack.userKey);
    expect(stored.json.turns).toBe(2);
    expect(stored.json.messages.a.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect((await pane(page, "B").locator("article.assistant .markdown").last().textContent())?.trim()).toBe(stored.json.messages.b[3]!.content.trim());
    for (const name of NAMES) expect(await visibleEverywhere(page)).not.toContain(name);

    // The vote: names appear in each pane, voting closes, New battle is offered.
    await page.getByRole("button", { name: "A is better" }).click();
    await expect.poll(() => pane(page, "A").locator(".pane-model").textContent()).toMatch(/^vicuna-/);
    const revealed = { a: await pane(page, "A").locator(".pane-model").textContent(), b: await pane(page, "B").locator(".pane-model").textContent() };
    expect([revealed.a, revealed.b].sort()).toEqual([...NAMES].sort());
    expect(await votesButtons().evaluateAll((bs) => bs.map((b) => (b as HTMLButtonElement).disabled))).toEqual([true, true, true, true]);
    expect(await page.getByRole("button", { name: "A is better" }).getAttribute("aria-pressed")).toBe("true");
    expect(await page.getByRole("status").filter({ hasText: "You voted" }).textContent()).toContain("You voted: A is better.");
    expect(await page.getByRole("textbox", { name: "Question" }).count()).toBe(0);
    expect(await pane(page, "A").getByText("Your pick").count()).toBe(1);

    // The API agrees: the vote is stored and names the same models on the same sides.
    const after = await api<ArenaBattleWithMessages>("GET", `/v1/arena/battles/${battleId}`, stack.userKey);
    expect(after.json.status).toBe("voted");
    expect(after.json.vote?.winner).toBe("a");
    expect({ a: after.json.a.model, b: after.json.b.model }).toEqual(revealed);
    votes.push({ a: after.json.a.model!, b: after.json.b.model!, winner: "a" });
    await maybeScreenshot(page, "arena");

    // A reload shows the voted battle as stored; New battle starts over.
    await page.reload();
    await expect.poll(() => pane(page, "B").locator(".pane-model").textContent()).toBe(revealed.b);
    expect(await pane(page, "A").locator("article.assistant").count()).toBe(2);
    await page.getByRole("button", { name: "New battle" }).click();
    await page.getByRole("heading", { name: "Arena" }).waitFor();
    expect(page.url()).toBe(`${stack.url}/arena`);
    expect(await page.getByRole("region", { name: "Model A" }).count()).toBe(0);
    expect(problems.errors).toEqual([]);
  });

  it("a second battle with a system prompt, voted a tie", async () => {
    const { page, problems } = await openPage(browser);
    await signInToArena(page);
    await page.getByText("System prompt (optional)").click();
    await page.getByLabel("System prompt, the same for both models").fill("Answer like a mountain guide.");
    await ask(page, "What should I pack for the altiplano?");
    await waitForBothAnswers(page);
    const battleId = battleIdOf(page);
    await page.getByText("System prompt", { exact: true }).click();
    await page.getByText("Answer like a mountain guide.").waitFor();
    await page.getByRole("button", { name: "Tie" }).click();
    await expect.poll(() => pane(page, "B").locator(".pane-model").textContent()).toMatch(/^vicuna-/);
    const after = await api<ArenaBattleWithMessages>("GET", `/v1/arena/battles/${battleId}`, stack.userKey);
    expect(after.json.vote?.winner).toBe("tie");
    votes.push({ a: after.json.a.model!, b: after.json.b.model!, winner: "tie" });
    expect(problems.errors).toEqual([]);
  });

  it("a side that fails shows its error, and the battle says it cannot be voted on", async () => {
    const { page, problems } = await openPage(browser);
    await signInToArena(page);
    // The small model's only worker drops its next stream after a few tokens.
    const worker = stack.workers.find((w) => w.model === SMALL)!;
    await worker.sim.setFailure({ mode: "close-after", afterTokens: 5, count: 1 });
    try {
      await ask(page, "Tell me about vicuña wool.");
      await expect.poll(() => page.locator(".arena-pane .status-note.error").count(), { timeout: 30_000 }).toBe(1);
      await waitForBothAnswers(page);
    } finally {
      await worker.sim.setFailure(null);
    }
    await page.getByText("One side failed, so this battle cannot be voted on.").waitFor();
    const disabled = await page
      .getByRole("group", { name: "Your vote" })
      .getByRole("button")
      .evaluateAll((bs) => bs.map((b) => (b as HTMLButtonElement).disabled));
    expect(disabled).toEqual([true, true, true, true]);
    expect(await page.getByRole("textbox", { name: "Question" }).count()).toBe(0);
    const battleId = battleIdOf(page);
    const stored = await api<ArenaBattleWithMessages>("GET", `/v1/arena/battles/${battleId}`, stack.userKey);
    expect(stored.json.status).toBe("failed");
    // The failed side is the small model's.
    const failedSlot = (await pane(page, "A").locator(".status-note.error").count()) === 1 ? "a" : "b";
    expect(stored.json[failedSlot].model).toBe(SMALL);
    // Voting anyway is refused by the gateway.
    const refused = await api<{ error: { code: string } }>("POST", `/v1/arena/battles/${battleId}/vote`, stack.userKey, { winner: "a" });
    expect([refused.status, refused.json.error.code]).toEqual([409, "battle_not_votable"]);
    expect(problems.errors).toEqual([]);
  });

  it("stacks the panes on a 375×740 phone without sideways scrolling", async () => {
    const { page, problems } = await openPage(browser, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    await signInToArena(page);
    const fits = () => page.evaluate(() => document.scrollingElement!.scrollWidth <= innerWidth);
    expect(await fits()).toBe(true);
    await ask(page, `A long word: ${"x".repeat(120)} and a link https://example.com/${"segment/".repeat(20)}`);
    await waitForBothAnswers(page);
    expect(await fits()).toBe(true);
    const boxA = (await pane(page, "A").boundingBox())!;
    const boxB = (await pane(page, "B").boundingBox())!;
    expect(boxB.y).toBeGreaterThanOrEqual(boxA.y + boxA.height); // stacked, A above B
    for (const box of [boxA, boxB]) expect(box.x + box.width).toBeLessThanOrEqual(375);
    const buttons = await page.getByRole("group", { name: "Your vote" }).getByRole("button").evaluateAll((bs) => bs.map((b) => b.getBoundingClientRect().right));
    for (const right of buttons) expect(right).toBeLessThanOrEqual(375);
    expect(problems.errors).toEqual([]);
  });
});

describe("the leaderboard page", () => {
  it("after an admin recompute, shows both models, their battles and the win matrix to a visitor without a session", async () => {
    expect(votes).toHaveLength(2);
    // A recorded evaluation run of one of the two models (a fixture, named as one: no judge rated
    // anything): its score shows beside the votes.
    const judged = NAMES[0]!;
    const recorded = await api<{ id: string }>("POST", "/admin/evals", stack.adminKey, {
      question_set: "test-fixture.jsonl",
      question_count: 80,
      results: { mode: "single", judge_model: "fake-judge", models: { [judged]: { score: 7.4, categories: {}, turns: [7.6, 7.2], unparsed: 0 } }, pairwise: {} },
    });
    expect(recorded.status).toBe(201);
    const refreshed = await api<ArenaLeaderboard>("POST", "/admin/arena/leaderboard", stack.adminKey);
    expect(refreshed.status).toBe(200);
    const board = refreshed.json;
    expect(board.votes_counted).toBe(votes.length);
    expect(board.models.map((m) => m.model).sort()).toEqual([...NAMES].sort());

    // What the two votes make of each model: battles, wins, losses, ties.
    const record = (model: string) => {
      const mine = votes.filter((v) => v.a === model || v.b === model);
      const won = mine.filter((v) => (v.winner === "a" && v.a === model) || (v.winner === "b" && v.b === model)).length;
      const tied = mine.filter((v) => v.winner === "tie" || v.winner === "bothbad").length;
      return { battles: mine.length, wins: won, losses: mine.length - won - tied, ties: tied };
    };

    const { context, page, problems } = await openPage(browser);
    expect(await context.cookies()).toEqual([]);
    await page.goto(`${stack.url}/leaderboard`);
    await page.getByRole("heading", { name: "Leaderboard" }).waitFor();
    const ratings = page.getByRole("table", { name: "Models ranked by rating" });
    await ratings.waitFor();
    expect(await page.getByLabel("API key").count()).toBe(0);

    const headers = await ratings.locator("thead th").allTextContents();
    expect(headers).toEqual(["Rank", "Model", "Rating", "95 % interval", "Battles", "Wins", "Losses", "Ties", "Judge"]);
    expect(board.judge).toMatchObject({ run_id: recorded.json.id, judge_model: "fake-judge", mode: "single", scores: { [judged]: 7.4 } });
    await page.getByText("Judge: fake-judge’s mean rating (1–10) over 80 questions of test-fixture.jsonl").waitFor();
    const rows = await ratings.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => (c.textContent ?? "").trim())));
    expect(rows.map((r) => r[1])).toEqual(board.models.map((m) => m.model)); // best first, as computed
    for (const row of rows) {
      const expected = record(row[1]!);
      const entry = board.models.find((m) => m.model === row[1])!;
      expect(row).toEqual([
        String(entry.rank),
        entry.model,
        String(Math.round(entry.rating)),
        `${Math.round(entry.rating_low)}\u2013${Math.round(entry.rating_high)}`,
        String(expected.battles),
        String(expected.wins),
        String(expected.losses),
        String(expected.ties),
        entry.model === judged ? "7.4 / 10" : "\u2013",
      ]);
      expect(expected.battles).toBe(2);
    }

    // The matrix: the two models met twice; the diagonal is empty.
    const matrix = page.getByRole("table", { name: "Win fractions between models" });
    const cells = await matrix.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => ({ text: (c.textContent ?? "").trim(), cls: c.className }))));
    const order = board.win_fractions.models;
    expect(await matrix.locator("thead th").allTextContents()).toEqual(order);
    for (const [i, row] of cells.entries()) {
      expect(row[0]!.text).toBe(order[i]);
      for (const [j, cell] of row.slice(1).entries()) {
        if (i === j) {
          expect(cell).toEqual({ text: "", cls: "diagonal" });
          continue;
        }
        const mine = votes.filter((v) => (v.a === order[i] && v.b === order[j]) || (v.b === order[i] && v.a === order[j]));
        const points = mine.reduce((sum, v) => sum + (v.winner === "tie" || v.winner === "bothbad" ? 0.5 : (v.winner === "a" ? v.a : v.b) === order[i] ? 1 : 0), 0);
        const fraction = points / mine.length;
        expect(cell.text).toBe(`${fraction.toFixed(2)}${mine.length} battles`);
        expect(cell.cls).toBe(`wf wf-${Math.round(fraction * 10)}`);
      }
    }
    expect(await page.getByText(`${votes.length} votes counted of ${board.votes_total}`).count()).toBe(1);
    // The public JSON the page read is the recomputed one.
    const publicBoard = await api<ArenaLeaderboard>("GET", "/v1/leaderboard", null);
    expect(publicBoard.status).toBe(200);
    expect(publicBoard.json.votes_counted).toBe(votes.length);
    await maybeScreenshot(page, "leaderboard");
    const fits = async (): Promise<boolean> => page.evaluate(() => document.scrollingElement!.scrollWidth <= innerWidth);
    await page.setViewportSize({ width: 375, height: 740 });
    expect(await fits()).toBe(true);
    expect(problems.errors).toEqual([]);
    await context.close();
  });
});

describe("accessibility", () => {
  it("has no serious or critical axe-core violations on /arena (signed in, answered, voted) and /leaderboard, light and dark", async () => {
    // As in security.test.ts: axe runs through the DevTools protocol, under the pages' own CSP.
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
      await page.goto(`${stack.url}/arena`);
      await page.getByLabel("API key").waitFor();
      // A visitor without a key is pointed to the public leaderboard.
      expect(await page.getByRole("link", { name: "leaderboard" }).getAttribute("href")).toBe("/leaderboard");
      await audit(page, `arena sign-in (${colorScheme})`);
      await signInToArena(page);
      await page.getByText("System prompt (optional)").click();
      await audit(page, `new battle (${colorScheme})`);
      await ask(page, "# Heading\n\nSome *text* and `code`");
      await waitForBothAnswers(page);
      await audit(page, `two answers, vote open (${colorScheme})`);
      await page.getByRole("button", { name: "Both are bad" }).click();
      await expect.poll(() => pane(page, "A").locator(".pane-model").textContent()).toMatch(/^vicuna-/);
      await audit(page, `voted (${colorScheme})`);
      await page.goto(`${stack.url}/leaderboard`);
      await page.getByRole("table", { name: "Models ranked by rating" }).waitFor();
      await audit(page, `leaderboard (${colorScheme})`);
      await context.close();
    }
  });
});
