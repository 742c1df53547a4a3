/**
 * `npm run export` end to end: two keys, one sharing data by default; conversations with HTML, an
 * e-mail address, an API key, a cancelled reply and a long history, through the real stack (the
 * simulated model echoes each question, so the replies carry the same text). The export holds only
 * the consenting key's conversations, cleaned, alternating, split to the window, in ShareGPT as
 * LLaMA-Factory and Axolotl read it; a deleted or withdrawn conversation is absent; an export
 * stopped midway and resumed neither repeats nor skips a conversation.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runExport, type ExportRunOptions } from "../../export/run.js";
import type { ShareGptRecord } from "../../export/sharegpt.js";
import { startStack, type Stack } from "../../scripts/stack.js";
import type { Conversation } from "../../wire/conversations.js";
import { ConversationApi } from "./conversation-api.js";

const MODEL = "vicuna-13b-v1.5";
const MODELS = JSON.stringify([{ id: MODEL, template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 400 }]);
const EMAIL = "ana.quispe@example.org";
const SECRET = "sk-proj-4f9Qa7LmZx2Wc8VbN1tR6yUe";

let stack: Stack;
let sharing: ConversationApi;
let private_: ConversationApi;
let scratch: string;
/** Conversations the export must contain, and must not. */
const expected = new Set<string>();
const excluded = new Set<string>();

async function keyWith(dataSharing: boolean, name: string): Promise<string> {
  const res = await fetch(`${stack.url}/admin/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name, role: "user", data_sharing: dataSharing }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: string }).key;
}

beforeAll(async () => {
  // Echo, a little slow: a reply can be stopped part-way.
  stack = await startStack({ sims: 1, models: [MODEL], sim: { reply: "echo", ttftBaseMs: 5, prefillMsPerToken: 0, itlMs: 8, itlJitterMs: 0 }, vars: { MODELS } });
  sharing = new ConversationApi(stack.url, await keyWith(true, "community (shares data)"));
  private_ = new ConversationApi(stack.url, await keyWith(false, "private"));
  scratch = await mkdtemp(path.join(tmpdir(), "altiplano-export-"));

  // 1. HTML, an e-mail address and a secret, answered in full.
  const html = await sharing.create({});
  expect(html.training_consent).toBe(true);
  await sharing.send(html.id, { content: `<p>Write to <b>${EMAIL}</b> about the loom.</p><p>My key is ${SECRET}, keep it safe.</p>` });
  expected.add(html.id);

  // 2. A reply stopped part-way, then one answered: the stopped turn is cut with its question.
  const cancelled = await sharing.create({});
  const controller = new AbortController();
  await sharing
    .sendStreamed(cancelled.id, { content: `Stop me: ${"the alpacas walk slowly across the salt flat ".repeat(20)}`, max_tokens: 300 }, {
      signal: controller.signal,
      onText: (text) => {
        if (text.length > 20) controller.abort();
      },
    })
    .catch(() => undefined);
  // The stopped reply is stored as cancelled once the gateway notices the client left: at once
  // when workerd cancels the stream, or after CLIENT_STALL_TIMEOUT_MS (10 s) when it does not.
  for (let i = 0; i < 200 && (await sharing.get(cancelled.id)).messages.at(-1)?.status !== "cancelled"; i++) await new Promise((r) => setTimeout(r, 100));
  expect((await sharing.get(cancelled.id)).messages.at(-1)?.status).toBe("cancelled");
  await sharing.send(cancelled.id, { content: "How many alpacas live on the altiplano?" });
  expected.add(cancelled.id);

  // 3. A long history that cannot fit one 256-token window.
  const long = await sharing.create({});
  for (let i = 0; i < 8; i++) await sharing.send(long.id, { content: `Turn ${i}: the weavers of Taquile knit hats and belts with patterns that tell stories of the lake.` });
  expected.add(long.id);

  // 4. Deleted, 5. consent withdrawn, 6. the other key's (no consent by default).
  const deleted = await sharing.create({});
  await sharing.send(deleted.id, { content: "This conversation will be deleted before the export." });
  await sharing.raw("DELETE", `/v1/conversations/${deleted.id}`);
  excluded.add(deleted.id);
  const withdrawn = await sharing.create({});
  await sharing.send(withdrawn.id, { content: "The user changed their mind about sharing this one." });
  const updated = await sharing.raw("POST", `/v1/conversations/${withdrawn.id}`, { training_consent: false });
  expect(((await updated.json()) as Conversation).training_consent).toBe(false);
  excluded.add(withdrawn.id);
  const other = await private_.create({});
  expect(other.training_consent).toBe(false);
  await private_.send(other.id, { content: "A private conversation of a key that does not share data." });
  excluded.add(other.id);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function options(out: string, overrides: Partial<ExportRunOptions> = {}): ExportRunOptions {
  return {
    gatewayUrl: stack.url,
    adminKey: stack.adminKey,
    out: path.join(scratch, out),
    feedback: "any",
    maxTokens: 256,
    testFraction: 0,
    format: "sharegpt",
    minChars: 20,
    blockList: [],
    pageSize: 2,
    resume: false,
    ...overrides,
  };
}

async function readJsonl(file: string): Promise<ShareGptRecord[]> {
  const text = await readFile(file, "utf8");
  // Test-side parse of the export's own typed records.
  return text.trim() === "" ? [] : text.trim().split("\n").map((line) => JSON.parse(line) as ShareGptRecord);
}

const conversationOf = (record: ShareGptRecord) => record.id.replace(/_\d+$/, "");

describe("npm run export", () => {
  let records: ShareGptRecord[];

  it("exports only consented conversations, cleaned, alternating, within the window", async () => {
    const outcome = await runExport(options("all.jsonl"));
    expect(outcome.complete).toBe(true);
    records = await readJsonl(path.join(scratch, "all.jsonl"));
    expect(new Set(records.map(conversationOf))).toEqual(expected);
    expect(outcome.summary).toMatchObject({ conversationsRead: expected.size, conversationsKept: expected.size });
    expect(outcome.pages).toBe(2); // 3 conversations, 2 a page

    const text = JSON.stringify(records);
    expect(text).not.toContain(EMAIL);
    expect(text).not.toContain(SECRET);
    expect(text).not.toMatch(/<\/?(p|b)>/);
    expect(text).toContain("**"); // <b> became Markdown bold
    expect(text).not.toContain("Stop me");
    expect(outcome.summary.scrub.email).toBeGreaterThanOrEqual(2); // question and echoed reply
    expect(outcome.summary.scrub.secret).toBeGreaterThanOrEqual(2);

    for (const record of records) {
      expect(record.model).toBe(MODEL);
      expect(record.id).toMatch(/^conv_[A-Za-z0-9_-]+_\d+$/);
      const roles = record.conversations.map((t) => t.from);
      expect(roles.length % 2).toBe(0);
      roles.forEach((from, i) => expect(from).toBe(i % 2 === 0 ? "human" : "gpt"));
    }
    // The long history became several segments, each within 256 tokens, keeping every turn once, in order.
    const long = records.filter((r) => r.conversations.some((t) => t.value.includes("Taquile")));
    expect(long.length).toBeGreaterThan(1);
    const turns = long.flatMap((r) => r.conversations.filter((t) => t.from === "human").map((t) => t.value));
    expect(turns).toEqual(Array.from({ length: 8 }, (_, i) => `Turn ${i}: the weavers of Taquile knit hats and belts with patterns that tell stories of the lake.`));
    expect(outcome.summary.tokensWritten).toBeLessThanOrEqual(256 * outcome.summary.segmentsWritten.train);
  });

  it("is ShareGPT as LLaMA-Factory and Axolotl read it", () => {
    // LLaMA-Factory dataset_info: formatting "sharegpt", columns {messages: "conversations"},
    // tags {role_tag: "from", content_tag: "value", user_tag: "human", assistant_tag: "gpt"}.
    // Axolotl chat_template: field_messages "conversations", message_property_mappings {role: from,
    // content: value}, roles {user: ["human"], assistant: ["gpt"]}. Both need exactly these keys.
    for (const record of records) {
      expect(Object.keys(record).sort()).toEqual(expect.arrayContaining(["conversations", "id"]));
      for (const turn of record.conversations) {
        expect(Object.keys(turn).sort()).toEqual(["from", "value"]);
        expect(["human", "gpt"]).toContain(turn.from);
        expect(typeof turn.value).toBe("string");
        expect(turn.value.length).toBeGreaterThan(0);
      }
      expect(record.conversations[0]!.from).toBe("human");
      expect(record.conversations.at(-1)!.from).toBe("gpt");
    }
  });

  it("stopped after a page and resumed, neither repeats nor skips a conversation", async () => {
    const controller = new AbortController();
    const first = await runExport(options("resumed.jsonl", { pageSize: 1 }), { signal: controller.signal, onPage: () => controller.abort() });
    expect(first).toMatchObject({ complete: false, pages: 1 });
    const second = await runExport(options("resumed.jsonl", { pageSize: 1, resume: true }));
    expect(second.complete).toBe(true);
    const resumed = await readJsonl(path.join(scratch, "resumed.jsonl"));
    expect(resumed.map((r) => r.id)).toEqual(records.map((r) => r.id));
    expect(new Set(resumed.map((r) => r.id)).size).toBe(resumed.length);
    expect(second.summary.conversationsRead).toBe(expected.size);
  });

  it("writes a JSON array, and a deterministic test split by conversation", async () => {
    await runExport(options("split.json", { testFraction: 0.5 }));
    // Test-side parse of the export's own typed output.
    const train = JSON.parse(await readFile(path.join(scratch, "split.json"), "utf8")) as ShareGptRecord[];
    const test = JSON.parse(await readFile(path.join(scratch, "split.test.json"), "utf8")) as ShareGptRecord[];
    expect([...train, ...test].map((r) => r.id).sort()).toEqual(records.map((r) => r.id).sort());
    const trainConversations = new Set(train.map(conversationOf));
    for (const record of test) expect(trainConversations.has(conversationOf(record))).toBe(false);
    await runExport(options("split-again.json", { testFraction: 0.5 }));
    expect(await readFile(path.join(scratch, "split-again.json"), "utf8")).toBe(await readFile(path.join(scratch, "split.json"), "utf8"));
  });

  it("the command line prints its summary, and refuses a bad option by name", async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", "export/cli.ts", ...args], {
          env: { ...process.env, ALTIPLANO_ADMIN_KEY: stack.adminKey },
          stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (code) => resolve({ code, stderr }));
      });
    const out = path.join(scratch, "cli.jsonl");
    const ok = await run(["--out", out, "--gateway-url", stack.url, "--max-tokens", "256"]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain(`conversations read ${expected.size} (all consented), kept ${expected.size}`);
    expect(ok.stderr).toMatch(/personal data replaced: .*email \d+/);
    expect((await readJsonl(out)).map((r) => r.id)).toEqual(records.map((r) => r.id));
    const bad = await run(["--out", path.join(scratch, "x.csv"), "--gateway-url", stack.url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--out / EXPORT_OUT: must end in .jsonl or .json");
    const nothing = await run(["--out", path.join(scratch, "never.jsonl"), "--gateway-url", stack.url, "--resume"]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/^--resume: no interrupted export of .*never\.jsonl to continue/);
  });
});
