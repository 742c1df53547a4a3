/**
 * `npm run bench:export`: how fast `npm run export` reads consented conversations out of local
 * D1 through the gateway and cleans them. The gateway runs in workerd under Miniflare with the
 * real migrations; synthetic conversations (a few turns each, some HTML, an e-mail address, a
 * thumbed-down reply, a cancelled one) are written straight into D1, then the export is timed end
 * to end. Writes bench/results/export.{json,md}.
 *
 *   npm run bench:export [-- --conversations 5000 --turns 4 --page-size 100]
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { z } from "zod";
import type { Summary } from "../export/pipeline.js";
import { runExport } from "../export/run.js";
import { startGatewayMiniflare } from "../scripts/miniflare-runner.js";
import { describeOptionIssues, readBenchOptions } from "./lib/cli-config.js";
import { fmt } from "./lib/markdown.js";
import { createProgress } from "./lib/progress.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const MODEL = "vicuna-13b-v1.5";

const ConfigSchema = z.object({
  conversations: z.coerce.number().int().min(10).default(5000),
  turns: z.coerce.number().int().min(1).max(50).default(4),
  pageSize: z.coerce.number().int().min(1).max(500).default(100),
  outDir: z.string().min(1).default("bench/results"),
});
const { fromEnv, fromFlags } = readBenchOptions({ schema: ConfigSchema, envPrefix: "EXPORT_BENCH", argv: process.argv.slice(2), env: process.env });
const parsed = ConfigSchema.safeParse({ ...fromEnv, ...fromFlags });
if (!parsed.success) throw new Error(`invalid export benchmark configuration:\n${describeOptionIssues(parsed.error.issues)}`);
const config = parsed.data;

const progress = createProgress({ label: "export", total: 2 });
const loadStart = loadavg()[0]!;
const stateDir = await mkdtemp(path.join(tmpdir(), "altiplano-export-bench-"));
const adminKey = `sk-alt-${randomBytes(24).toString("base64url")}`;
const gateway = await startGatewayMiniflare({
  stateDir,
  vars: { ADMIN_API_KEY: adminKey, POOL_TOKEN: randomBytes(24).toString("base64url"), MODELS: JSON.stringify([{ id: MODEL, template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 512 }]) },
});
let result: { seconds: number; read: number; kept: number; segments: number; tokens: number; messages: number; pages: number; summary: Summary } | null = null;
try {
  const db = await gateway.database();
  const now = Date.now();
  const statements = [];
  let messages = 0;
  // Literal SQL: every value is the benchmark's own text.
  for (let c = 0; c < config.conversations; c++) {
    const id = `conv_bench${String(c).padStart(7, "0")}`;
    statements.push(db.prepare(`INSERT INTO conversations (id, key_id, end_user, model, metadata, created_at, updated_at, training_consent) VALUES ('${id}', 'key_bench', 'user${c % 97}', '${MODEL}', '{}', ${now - config.conversations + c}, ${now}, 1)`));
    const rows: string[] = [];
    for (let t = 0; t < config.turns; t++) {
      const html = t === 0 && c % 5 === 0 ? "<p>Please <b>write</b> to weaver" + c + "@example.org</p> " : "";
      const status = t === config.turns - 1 && c % 11 === 0 ? "cancelled" : "complete";
      rows.push(`('msg_${c}_${t}u', '${id}', ${2 * t + 1}, 'user', '${html}Question ${t} of conversation ${c}: how do the weavers of Taquile choose their colours and patterns?', NULL, ${now})`);
      rows.push(`('msg_${c}_${t}a', '${id}', ${2 * t + 2}, 'assistant', 'Answer ${t} for ${c}: they follow the patterns their families have used for generations, and the colours of the plants around the lake, which they dye by hand.', '${status}', ${now})`);
      messages += 2;
    }
    statements.push(db.prepare(`INSERT INTO messages (id, conversation_id, seq, role, content, status, created_at) VALUES ${rows.join(", ")}`));
    if (c % 7 === 0) statements.push(db.prepare(`INSERT INTO message_feedback (message_id, end_user, rating, flagged, updated_at) VALUES ('msg_${c}_0a', 'user1', 'down', 0, ${now})`));
  }
  for (let i = 0; i < statements.length; i += 200) await db.batch(statements.slice(i, i + 200));
  progress.step(`seeded ${config.conversations} conversations, ${messages} messages`);

  const out = path.join(stateDir, "export.jsonl");
  const t0 = performance.now();
  const outcome = await runExport({
    gatewayUrl: gateway.url,
    adminKey,
    out,
    feedback: "not-down",
    maxTokens: 2048,
    testFraction: 0.01,
    format: "sharegpt",
    minChars: 20,
    blockList: [],
    pageSize: config.pageSize,
    resume: false,
  });
  const seconds = (performance.now() - t0) / 1000;
  const s = outcome.summary;
  result = { seconds, read: s.conversationsRead, kept: s.conversationsKept, segments: s.segmentsWritten.train + s.segmentsWritten.test, tokens: s.tokensWritten, messages, pages: outcome.pages, summary: s };
  progress.step(`exported ${s.conversationsRead} conversations in ${fmt(seconds, 1)} s (${fmt(s.conversationsRead / seconds, 0)}/s)`);
} finally {
  await gateway.stop();
  await rm(stateDir, { recursive: true, force: true });
}

const outDir = path.resolve(ROOT, config.outDir);
await mkdir(outDir, { recursive: true });
await writeFile(path.join(outDir, "export.json"), `${JSON.stringify({ config, machine: { cpus: cpus().length, loadAverageAtStart: loadStart }, result }, null, 2)}\n`);
const r = result!;
await writeFile(
  path.join(outDir, "export.md"),
  `# Training-data export throughput

\`npm run bench:export\` on ${cpus().length} cores (load average ${fmt(loadStart, 2)} at start). The gateway runs in workerd under Miniflare with local D1
and the real migrations; ${config.conversations.toLocaleString("en-US")} consented conversations of ${config.turns} turns (${r.messages.toLocaleString("en-US")} messages; every 5th with HTML and an
e-mail address, every 7th with a thumbed-down first reply, every 11th with a cancelled last reply) are written straight into D1, then
\`npm run export\`'s runner reads them ${config.pageSize} a page (\`--min-feedback not-down\`, \`--max-tokens 2048\`, \`--split-test 0.01\`), cleans, scrubs,
splits with the Vicuna template and tokenizer, and writes JSON Lines.

| conversations read | kept | segments written | tokens written | pages | wall time | conversations / s |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| ${r.read.toLocaleString("en-US")} | ${r.kept.toLocaleString("en-US")} | ${r.segments.toLocaleString("en-US")} | ${r.tokens.toLocaleString("en-US")} | ${r.pages} | ${fmt(r.seconds, 1)} s | ${fmt(r.read / r.seconds, 0)} |

The run's summary: dropped ${Object.entries(r.summary.droppedByReason).filter(([, n]) => n > 0).map(([why, n]) => `${why} ${n}`).join(", ") || "none"};
messages cut (cancelled replies with their questions) ${r.summary.messagesDropped}; pairs kept ${r.summary.pairsKept.toLocaleString("en-US")};
segments ${r.summary.segmentsWritten.train.toLocaleString("en-US")} train and ${r.summary.segmentsWritten.test} test; personal data replaced:
${Object.entries(r.summary.scrub).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${n}`).join(", ") || "none"}.
`,
);
progress.log("wrote bench/results/export.md");
