/**
 * `npm run bench:arena-refit`: what the leaderboard's refit costs inside the gateway — the cron
 * trigger's work, done here through `POST /admin/arena/leaderboard`: read every vote from local
 * D1 (10,000 a query), filter, fit, bootstrap, store — against the read a page view does
 * (`GET /v1/leaderboard`, the stored row). The gateway runs in workerd under Miniflare with the
 * real migrations; votes are synthetic (bench/lib/synthetic-votes.ts), seeded straight into D1.
 * Writes bench/results/arena-refit.{json,md}.
 *
 *   npm run bench:arena-refit [-- --votes 10000,100000 --runs 5 --models 10 --seed 1]
 *
 * Every option is also an ARENA_REFIT_* environment variable.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { z } from "zod";
import { mulberry32 } from "../workers/arena/bootstrap.js";
import { startGatewayMiniflare } from "../scripts/miniflare-runner.js";
import { describeOptionIssues, readBenchOptions } from "./lib/cli-config.js";
import { fmt, markdownTable } from "./lib/markdown.js";
import { createProgress } from "./lib/progress.js";
import { quantile } from "./lib/stats.js";
import { syntheticVotes } from "./lib/synthetic-votes.js";

const ROOT = path.resolve(import.meta.dirname, "..");

const ConfigSchema = z.object({
  votes: z
    .string()
    .default("10000,100000")
    .transform((s) => s.split(",").map(Number))
    .pipe(z.array(z.number().int().min(100)).min(1)),
  runs: z.coerce.number().int().min(1).default(5),
  models: z.coerce.number().int().min(2).max(200).default(10),
  seed: z.coerce.number().int().default(1),
  outDir: z.string().min(1).default("bench/results"),
});
type Config = z.infer<typeof ConfigSchema>;

function loadConfig(): Config {
  const { fromEnv, fromFlags } = readBenchOptions({ schema: ConfigSchema, envPrefix: "ARENA_REFIT", argv: process.argv.slice(2), env: process.env });
  const parsed = ConfigSchema.safeParse({ ...fromEnv, ...fromFlags });
  if (!parsed.success) throw new Error(`invalid arena-refit benchmark configuration:\n${describeOptionIssues(parsed.error.issues)}`);
  return parsed.data;
}

const ROWS_PER_STATEMENT = 500;
const DAY_MS = 86_400_000;

/** Inserts `count` votes: one voter per ~20 votes, cast over 30 days, a few with a leaked identity. */
async function seedVotes(db: Awaited<ReturnType<Awaited<ReturnType<typeof startGatewayMiniflare>>["database"]>>, count: number, config: Config): Promise<void> {
  await db.exec("DELETE FROM arena_votes");
  const trueRatings = Array.from({ length: config.models }, (_, i) => 800 + 50 * i);
  const votes = syntheticVotes(trueRatings, count, 0.1, config.seed);
  const random = mulberry32(config.seed + 1);
  const start = Date.now() - 30 * DAY_MS;
  const statements = [];
  for (let from = 0; from < votes.length; from += ROWS_PER_STATEMENT) {
    // Literal values: every string here is the benchmark's own (model-NNN, a, b, tie, hex ids).
    const rows = votes.slice(from, from + ROWS_PER_STATEMENT).map((v, k) => {
      const i = from + k;
      const voter = Math.floor(random() * Math.max(1, count / 20));
      const leaked = random() < 0.02 ? 1 : 0;
      return `('battle_bench${i}', '${v.modelA}', '${v.modelB}', '${v.winner}', 1, 'voter${voter}', 1, ${leaked}, ${start + Math.floor((i / count) * 30 * DAY_MS)})`;
    });
    statements.push(
      db.prepare(`INSERT INTO arena_votes (battle_id, model_a, model_b, winner, turns, voter_hash, anonymous, identity_leaked, voted_at) VALUES ${rows.join(", ")}`),
    );
  }
  for (let i = 0; i < statements.length; i += 20) await db.batch(statements.slice(i, i + 20));
}

interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
}

async function time(runs: number, body: () => Promise<void>): Promise<Timing> {
  await body(); // warm-up: the isolate's first fit compiles the code paths
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await body();
    samples.push(performance.now() - t0);
  }
  return { medianMs: quantile(samples, 0.5), minMs: Math.min(...samples), maxMs: Math.max(...samples) };
}

interface SizeResult {
  votes: number;
  votesCounted: number;
  refit: Timing;
  read: Timing;
  bodyBytes: number;
}

const config = loadConfig();
const progress = createProgress({ label: "arena-refit", total: config.votes.length });
const loadStart = loadavg()[0]!;
const stateDir = await mkdtemp(path.join(tmpdir(), "altiplano-arena-refit-"));
const adminKey = `sk-alt-${randomBytes(24).toString("base64url")}`;
const gateway = await startGatewayMiniflare({ stateDir, vars: { ADMIN_API_KEY: adminKey, POOL_TOKEN: randomBytes(24).toString("base64url") } });
const sizes: SizeResult[] = [];
try {
  const db = await gateway.database();
  for (const count of config.votes) {
    await seedVotes(db, count, config);
    let last: { votes_counted: number } = { votes_counted: 0 };
    let bodyBytes = 0;
    const refit = await time(config.runs, async () => {
      const res = await fetch(`${gateway.url}/admin/arena/leaderboard`, { method: "POST", headers: { authorization: `Bearer ${adminKey}` } });
      if (res.status !== 200) throw new Error(`refit answered ${res.status}: ${await res.text()}`);
      const text = await res.text();
      bodyBytes = text.length;
      last = z.object({ votes_counted: z.number() }).parse(JSON.parse(text));
    });
    const read = await time(config.runs * 4, async () => {
      const res = await fetch(`${gateway.url}/v1/leaderboard`);
      if (res.status !== 200) throw new Error(`read answered ${res.status}`);
      await res.arrayBuffer();
    });
    sizes.push({ votes: count, votesCounted: last.votes_counted, refit, read, bodyBytes });
    progress.step(`${count} votes: refit ${fmt(refit.medianMs, 0)} ms, read ${fmt(read.medianMs, 2)} ms`);
  }
} finally {
  await gateway.stop();
  await rm(stateDir, { recursive: true, force: true });
}

const outDir = path.resolve(ROOT, config.outDir);
const results = { config, machine: { cpus: cpus().length, loadAverageAtStart: loadStart }, sizes };
await mkdir(outDir, { recursive: true });
await writeFile(path.join(outDir, "arena-refit.json"), `${JSON.stringify(results, null, 2)}\n`);
const ms = (t: Timing, digits: number) => `${fmt(t.medianMs, digits)} ms (${fmt(t.minMs, digits)}–${fmt(t.maxMs, digits)})`;
const md = `# Arena leaderboard: refit in the gateway vs a page view's read

\`npm run bench:arena-refit\` on ${cpus().length} cores (load average ${fmt(loadStart, 2)} at start). The gateway runs in workerd
under Miniflare with local D1 and the real migrations. A refit is \`POST /admin/arena/leaderboard\`, the same work as the cron
trigger: every vote of an anonymous battle read from D1 (${(10_000).toLocaleString("en-US")} rows a query), the identity-leak and
per-voter-per-day filters, the Bradley–Terry fit, its bootstrap (100 rounds, the default) and the stored row. A read is \`GET /v1/leaderboard\`,
what every page view costs. Synthetic votes among ${config.models} models, about 20 per voter, cast over 30 days, 2 % with a leaked identity.
Times are wall-clock from a client on the same machine: median (min–max) of ${config.runs} refits and ${config.runs * 4} reads, after one warm-up each.

${markdownTable<SizeResult>(
  [
    { header: "votes stored", align: "right", cell: (r) => r.votes.toLocaleString("en-US") },
    { header: "votes counted", align: "right", cell: (r) => r.votesCounted.toLocaleString("en-US") },
    { header: "refit (cron / admin)", align: "right", cell: (r) => ms(r.refit, 0) },
    { header: "read (page view)", align: "right", cell: (r) => ms(r.read, 2) },
    { header: "leaderboard JSON", align: "right", cell: (r) => `${fmt(r.bodyBytes / 1024, 1)} KB` },
  ],
  sizes,
)}

The pure fit and bootstrap alone are in \`arena-fit.md\`; the rest of a refit is reading the votes out of D1 and filtering them.
A read never refits while the stored leaderboard is younger than \`ARENA_LEADERBOARD_MAX_AGE_SECONDS\`, so its cost does not grow with votes.
`;
await writeFile(path.join(outDir, "arena-refit.md"), md);
progress.log(`wrote ${path.relative(ROOT, path.join(outDir, "arena-refit.md"))} and arena-refit.json`);
