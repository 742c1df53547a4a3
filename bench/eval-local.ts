/**
 * `npm run bench:eval-local`: what a full `npm run eval` costs in calls and time on the local
 * stack — the default question set, two simulated pool models, single mode and then pairwise on
 * the same answers — with a loopback fake judge (test/fake-openai) standing in for GPT-4. The fake
 * answers at once with verdicts drawn from a hash of what it is shown: the figures measure the
 * pipeline (gateway, retries, files), and the report it writes shows the format only, never any
 * model's quality. Writes bench/results/eval-local.{json,md} and the run's own report under
 * bench/results/eval-local/.
 *
 *   npm run bench:eval-local [-- --concurrency 4 --max-tokens 256 --questions eval/questions/altiplano-80.jsonl]
 */
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { z } from "zod";
import { parseQuestions } from "../eval/questions.js";
import { runEval, type EvalOptions } from "../eval/run.js";
import { startStack } from "../scripts/stack.js";
import { startFakeOpenAI } from "../test/fake-openai/index.js";
import { describeOptionIssues, readBenchOptions } from "./lib/cli-config.js";
import { fmt } from "./lib/markdown.js";
import { createProgress } from "./lib/progress.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const MODELS = ["vicuna-13b-v1.5", "vicuna-7b-v1.5"];

const ConfigSchema = z.object({
  questions: z.string().default("eval/questions/altiplano-80.jsonl"),
  concurrency: z.coerce.number().int().min(1).default(4),
  maxTokens: z.coerce.number().int().min(1).default(256),
  outDir: z.string().min(1).default("bench/results"),
});

const { fromEnv, fromFlags } = readBenchOptions({ schema: ConfigSchema, envPrefix: "EVAL_LOCAL", argv: process.argv.slice(2), env: process.env });
const parsedConfig = ConfigSchema.safeParse({ ...fromEnv, ...fromFlags });
if (!parsedConfig.success) throw new Error(`invalid eval-local benchmark configuration:\n${describeOptionIssues(parsedConfig.error.issues)}`);
const config = parsedConfig.data;

/** A verdict from a hash of the prompt: stable run to run, unrelated to what the answers say. */
function hashVerdict(body: unknown): string {
  const text = JSON.stringify((body as { messages?: unknown }).messages ?? "");
  const h = createHash("sha256").update(text).digest()[0]!;
  const pairwise = text.includes("[[A]]");
  return pairwise ? `Placeholder verdict from the fake judge. [[${"ABC"[h % 3]}]]` : `Placeholder rating from the fake judge. [[${1 + (h % 10)}]]`;
}

const progress = createProgress({ label: "eval-local", total: 2 });
const loadStart = loadavg()[0]!;
const questions = parseQuestions(await readFile(path.resolve(ROOT, config.questions), "utf8"), config.questions);
const scratch = await mkdtemp(path.join(tmpdir(), "altiplano-eval-local-"));
const stack = await startStack({
  sims: 1,
  models: MODELS,
  sim: { reply: "lorem", fast: true },
  seedPerModel: true,
  vars: { MODELS: JSON.stringify(MODELS.map((id) => ({ id, template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 512 }))) },
});
const judge = await startFakeOpenAI();
judge.respondWith((body) => ({ kind: "ok", text: hashVerdict(body), usage: { prompt_tokens: 600, completion_tokens: 40 } }));

interface PhaseResult {
  mode: "single" | "pairwise";
  wallMs: number;
  answersGenerated: number;
  judgeCalls: number;
}
const phases: PhaseResult[] = [];
const runDir = path.join(scratch, "run");
try {
  for (const mode of ["single", "pairwise"] as const) {
    const options: EvalOptions = {
      questions,
      models: MODELS,
      gateway: { baseUrl: `${stack.url}/v1`, apiKey: stack.userKey },
      judge: { baseUrl: judge.baseUrl, apiKey: "fake", model: "fake-judge (test double)" },
      mode,
      baseline: null,
      outDir: runDir,
      concurrency: config.concurrency,
      maxTokens: config.maxTokens,
    };
    const t0 = performance.now();
    const outcome = await runEval(options);
    const wallMs = performance.now() - t0;
    if (!outcome.complete) throw new Error(`${mode} run did not complete`);
    phases.push({ mode, wallMs, answersGenerated: outcome.generated, judgeCalls: outcome.judgeCalls });
    progress.step(`${mode}: ${outcome.generated} answers, ${outcome.judgeCalls} judge calls in ${fmt(wallMs / 1000, 1)} s`);
    const example = path.resolve(ROOT, config.outDir, "eval-local", mode);
    await mkdir(example, { recursive: true });
    for (const file of ["report.md", "scores.svg", "categories.svg", "results.json"]) await cp(path.join(runDir, file), path.join(example, file));
    const report = await readFile(path.join(example, "report.md"), "utf8");
    await writeFile(
      path.join(example, "report.md"),
      `> **Format example only.** Answers from the vLLM simulator (lorem ipsum) and verdicts from a fake judge that draws\n` +
        `> them from a hash of its prompt: nothing here measures any model. Made by \`npm run bench:eval-local\`.\n\n${report}`,
    );
  }
} finally {
  await judge.stop();
  await stack.stop();
  await rm(scratch, { recursive: true, force: true });
}

const outDir = path.resolve(ROOT, config.outDir);
await writeFile(path.join(outDir, "eval-local.json"), `${JSON.stringify({ config, machine: { cpus: cpus().length, loadAverageAtStart: loadStart }, questions: questions.length, phases }, null, 2)}\n`);
const rows = phases
  .map((p) => `| ${p.mode} | ${p.answersGenerated} | ${p.judgeCalls} | ${fmt(p.wallMs / 1000, 1)} s | ${fmt(p.judgeCalls / (p.wallMs / 1000), 1)} |`)
  .join("\n");
await writeFile(
  path.join(outDir, "eval-local.md"),
  `# A full local \`npm run eval\` against a fake judge

\`npm run bench:eval-local\` on ${cpus().length} cores (load average ${fmt(loadStart, 2)} at start): ${questions.length} questions from
\`${config.questions}\`, models ${MODELS.map((m) => `\`${m}\``).join(" and ")} on simulated GPU workers (lorem, no simulated latency),
answers up to ${config.maxTokens} tokens, concurrency ${config.concurrency}. The judge is a loopback fake that answers at once, so the times
are the pipeline's own (gateway, answers, files, scoring); a real judge's latency and rate limits set a real run's pace.
Single mode runs first and generates the answers; pairwise mode then judges the same answers, both orders per pair.

| mode | answers generated | judge calls | wall time | judge calls / s |
| --- | ---: | ---: | ---: | ---: |
${rows}

The run's own outputs, marked as a format example (they measure no model): [single](eval-local/single/report.md),
[pairwise](eval-local/pairwise/report.md).
`,
);
progress.log("wrote bench/results/eval-local.md");
