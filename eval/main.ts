/**
 * `npm run eval`: the command line around run.ts. Ctrl-C stops taking new work, lets nothing
 * half-written reach the run's files, and says how to resume; a second Ctrl-C exits at once.
 */
import { readFile } from "node:fs/promises";
import { helpText, OptionsError, parseOptions, type CliOptions } from "./options.js";
import { Tally, formatDuration } from "./progress.js";
import { parseQuestions, QuestionFileError } from "./questions.js";
import { runEval } from "./run.js";

async function record(options: CliOptions, results: unknown, questionCount: number): Promise<void> {
  const res = await fetch(`${options.gatewayUrl.replace(/\/+$/, "")}/admin/evals`, {
    method: "POST",
    headers: { authorization: `Bearer ${options.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ question_set: options.questions, question_count: questionCount, results }),
  });
  if (!res.ok) throw new Error(`recording the run failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { id?: string };
  process.stderr.write(`recorded in the gateway as ${body.id ?? "?"}\n`);
}

async function main(): Promise<number> {
  let options: CliOptions | "help";
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof OptionsError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (options === "help") {
    process.stdout.write(helpText());
    return 0;
  }
  let questions;
  try {
    questions = parseQuestions(await readFile(options.questions, "utf8"), options.questions);
  } catch (err) {
    if (err instanceof QuestionFileError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (options.limit !== undefined) questions = questions.slice(0, options.limit);
  const models = options.baseline && !options.models.includes(options.baseline) ? [...options.models, options.baseline] : options.models;

  const controller = new AbortController();
  let interrupts = 0;
  process.on("SIGINT", () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write("\nstopping: nothing new is started; run the same command again to resume (Ctrl-C again to quit now)\n");
    controller.abort(new Error("interrupted"));
  });
  const tally = new Tally({ judgeInputPerMillion: options.judgeInputPrice, judgeOutputPerMillion: options.judgeOutputPrice }, process.stderr);
  const started = Date.now();
  const outcome = await runEval(
    {
      questions,
      models,
      gateway: { baseUrl: `${options.gatewayUrl.replace(/\/+$/, "")}/v1`, apiKey: options.apiKey },
      judge: {
        baseUrl: options.judgeBaseUrl ?? `${options.gatewayUrl.replace(/\/+$/, "")}/v1`,
        apiKey: options.judgeApiKey ?? options.apiKey,
        model: options.judgeModel,
      },
      mode: options.mode,
      baseline: options.baseline ?? null,
      outDir: options.out,
      concurrency: options.concurrency,
      maxTokens: options.maxTokens,
    },
    { signal: controller.signal, tally, log: (line) => process.stderr.write(`\n${line}\n`) },
  );
  const t = tally.totals();
  const summary = `${formatDuration(Date.now() - started)} · ${outcome.generated} answers generated · ${outcome.judgeCalls} judge calls · ` +
    `judge ${t.judgeTokens} tokens, $${t.judgeCostUsd.toFixed(4)} · ${t.unparsed} unparsed`;
  if (!outcome.complete) {
    process.stderr.write(`interrupted after ${summary}; resume with the same command (same --out)\n`);
    return 130;
  }
  process.stderr.write(`done in ${summary}\nwrote ${options.out}/results.json, judgments.jsonl, report.md\n`);
  if (options.record) await record(options, outcome.results, questions.length);
  return 0;
}

process.exitCode = await main();
