/**
 * `npm run bench:discord-interactions`: Discord without a bot process, timed as a member sees it.
 * The loopback fake Discord signs `/chat` commands with the application's key and POSTs them to
 * the gateway's /discord/interactions (the whole stack from scripts/stack.ts: the Worker in
 * workerd, real D1 and Durable Objects, simulated GPU workers with the simulator's default
 * latency model); each command comes from a new member in their own DM, one at a time. Measured
 * in the fake, on one clock:
 *   - ack: from sending the signed command to the gateway's deferred answer;
 *   - first edit: from sending it to the first edit of the original message arriving (the
 *     Durable Object's alarm, the turn's admission and storage, the simulated prefill, the edit);
 *   - final edit: to the edit that shows the finished answer.
 * Writes bench/results/discord-interactions.{json,md,svg}.
 *
 *   npm run bench:discord-interactions [-- --commands 50 --max-tokens 64]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { MessageFlags } from "discord-api-types/v10";
import { z } from "zod";
import { buildCommands } from "../discord/commands.js";
import { DEFAULT_LATENCY } from "../gpu-backend/sim/latency-model.js";
import { PUBLIC_DEMO_KEY_ID, startStack, DEFAULT_MODEL_ID } from "../scripts/stack.js";
import { deliverInteraction, newApplicationKey } from "../test/fake-discord/http-interactions.js";
import { startFakeDiscord, type FakeDiscord, type FakeInteraction } from "../test/fake-discord/index.js";
import { describeOptionIssues, readBenchOptions } from "./lib/cli-config.js";
import { fmt, markdownTable } from "./lib/markdown.js";
import { createProgress } from "./lib/progress.js";
import { summarize, type Summary } from "./lib/stats.js";
import { barChart } from "./lib/svg-chart.js";

const ROOT = path.resolve(import.meta.dirname, "..");

const ConfigSchema = z.object({
  commands: z.coerce.number().int().min(5).default(50),
  maxTokens: z.coerce.number().int().min(1).max(1024).default(64),
  /** Discarded first commands (the isolate's first requests compile and warm caches). */
  warmup: z.coerce.number().int().min(0).default(3),
  outDir: z.string().min(1).default("bench/results"),
});
const { fromEnv, fromFlags } = readBenchOptions({ schema: ConfigSchema, envPrefix: "DISCORD_BENCH", argv: process.argv.slice(2), env: process.env });
const parsed = ConfigSchema.safeParse({ ...fromEnv, ...fromFlags });
if (!parsed.success) throw new Error(`invalid discord-interactions benchmark configuration:\n${describeOptionIssues(parsed.error.issues)}`);
const config = parsed.data;

const EDIT_INTERVAL_MS = 1000;
const loadStart = loadavg()[0]!;
const key = newApplicationKey();
const fake = await startFakeDiscord();
const stack = await startStack({
  sims: 1,
  sim: { reply: "lorem", replyLength: "max" },
  publicDemo: true,
  vars: {
    DISCORD_PUBLIC_KEY: key.publicKeyHex,
    DISCORD_APPLICATION_ID: fake.applicationId,
    DISCORD_KEY_ID: PUBLIC_DEMO_KEY_ID,
    DISCORD_API_BASE: `${fake.restApiUrl}/v10`,
    DISCORD_EDIT_INTERVAL_MS: String(EDIT_INTERVAL_MS),
    DISCORD_MAX_TOKENS: String(config.maxTokens),
  },
});

interface Sample {
  ackMs: number;
  firstEditMs: number;
  finalEditMs: number;
}

async function waitUntilFinal(fakeDiscord: FakeDiscord, i: FakeInteraction): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const id = i.originalMessageId;
    const m = id ? fakeDiscord.state.messages.get(id) : undefined;
    if (m && (m.flags & MessageFlags.Loading) === 0 && m.content !== "" && !m.content.includes("still writing")) return;
    if (Date.now() > deadline) throw new Error(`interaction ${i.id} did not finish within 60 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const samples: Sample[] = [];
try {
  const res = await fetch(`${fake.restApiUrl}/v10/applications/${fake.applicationId}/commands`, {
    method: "PUT",
    headers: { authorization: `Bot ${fake.token}`, "content-type": "application/json" },
    body: JSON.stringify(buildCommands([DEFAULT_MODEL_ID])),
  });
  if (!res.ok) throw new Error(`registering commands failed: ${res.status}`);
  const endpointUrl = `${stack.url}/discord/interactions`;
  const progress = createProgress({ label: "discord-interactions", total: config.warmup + config.commands });
  for (let n = 0; n < config.warmup + config.commands; n++) {
    const user = fake.addUser({ username: `member-${n}` });
    const dm = fake.dmChannelFor(user.id);
    const d = await deliverInteraction({ fake, key, endpointUrl, interaction: { kind: "command", name: "chat", options: { prompt: `Question number ${n}: what lives on the altiplano?` }, channelId: dm.id, userId: user.id } });
    if (d.status !== 200) throw new Error(`command ${n} answered ${d.status}: ${JSON.stringify(d.response)}`);
    await waitUntilFinal(fake, d.interaction);
    const edits = fake.editLog.filter((e) => e.kind === "edit" && e.messageId === d.interaction.originalMessageId);
    if (n >= config.warmup) samples.push({ ackMs: d.ackMs, firstEditMs: edits[0]!.atMs - d.sentAtMs, finalEditMs: edits[edits.length - 1]!.atMs - d.sentAtMs });
    progress.step(`ack ${fmt(d.ackMs)} ms`);
  }
} finally {
  await stack.stop();
  await fake.stop();
}

const rows: Array<{ what: string; summary: Summary }> = [
  { what: "deferred ack (signed POST → type 5 answer)", summary: summarize(samples.map((s) => s.ackMs)) },
  { what: "first edit of the original message", summary: summarize(samples.map((s) => s.firstEditMs)) },
  { what: "final edit (answer complete)", summary: summarize(samples.map((s) => s.finalEditMs)) },
];
const table = markdownTable(
  [
    { header: "from the signed command to", cell: (r) => r.what },
    { header: "p50 ms", align: "right", cell: (r) => fmt(r.summary.p50) },
    { header: "p90 ms", align: "right", cell: (r) => fmt(r.summary.p90) },
    { header: "p99 ms", align: "right", cell: (r) => fmt(r.summary.p99) },
    { header: "max ms", align: "right", cell: (r) => fmt(r.summary.max) },
  ],
  rows,
);
const outDir = path.resolve(ROOT, config.outDir);
await mkdir(outDir, { recursive: true });
const chart = barChart({
  title: "Discord HTTP interactions: signed /chat to Discord (ms)",
  yLabel: "ms",
  categories: ["deferred ack", "first edit", "final edit"],
  groups: [
    { name: "p50", values: rows.map((r) => r.summary.p50) },
    { name: "p99", values: rows.map((r) => r.summary.p99) },
  ],
});
await writeFile(path.join(outDir, "discord-interactions.svg"), chart);
await writeFile(path.join(outDir, "discord-interactions.json"), `${JSON.stringify({ config, samples, summaries: rows }, null, 2)}\n`);
const md = `# Discord HTTP interactions: command to first edit

\`npm run bench:discord-interactions\` (bench/discord-interactions.ts). ${config.commands} \`/chat\` commands (after ${config.warmup} warm-up
commands), each from a new member in their own DM, one at a time, signed by the loopback fake
Discord and POSTed to the gateway's \`/discord/interactions\` on the local stack (Worker in workerd
under Miniflare, local D1 and Durable Objects, one simulated GPU worker with the simulator's default
latency: ${DEFAULT_LATENCY.ttftBaseMs} ms prefill base, ${DEFAULT_LATENCY.itlMs} ms between tokens). Answers of ${config.maxTokens} tokens; edits at most every
${EDIT_INTERVAL_MS} ms. All times on the fake's clock, from sending the signed request.

${table}

![p50 and p99](discord-interactions.svg)

- **Deferred ack** is what Discord's 3-second window measures: verify the signature, store the job
  in its Durable Object and set its alarm, answer type 5.
- **First edit** adds the alarm firing, the in-process turn (admission, one D1 batch, routing), the
  simulated prefill (about ${DEFAULT_LATENCY.ttftBaseMs} ms), and the PATCH of \`@original\` reaching the fake.
- **Final edit** is bounded below by the edit interval: the first text goes out at once, the
  finished answer no sooner than ${EDIT_INTERVAL_MS} ms after the previous edit.

Machine: ${cpus().length} cores (${cpus()[0]?.model ?? "unknown"}), load average ${fmt(loadStart, 2)} at the start
(shared with other work; absolute numbers move with it).
`;
await writeFile(path.join(outDir, "discord-interactions.md"), md);
console.log(table);
