/**
 * `npm run eval` options: one table gives each flag its environment variable, default and help
 * line, so `--help` lists every option and nothing is parsed that is not documented.
 */
import { z } from "zod";
import { helpText as cliHelpText, parseCliOptions, type OptionSpec } from "../scripts/cli-options.js";

export { OptionsError } from "../scripts/cli-options.js";

export const OPTION_SPECS = {
  models: { flag: "models", env: "EVAL_MODELS", help: "models to evaluate, comma-separated (ids the gateway serves)" },
  questions: { flag: "questions", env: "EVAL_QUESTIONS", help: "question file in MT-bench's question.jsonl format", default: "eval/questions/altiplano-80.jsonl" },
  gatewayUrl: { flag: "gateway-url", env: "EVAL_GATEWAY_URL", help: "the gateway, whose /v1/chat/completions answers the questions", default: "http://127.0.0.1:8787" },
  apiKey: { flag: "api-key", env: "ALTIPLANO_API_KEY", help: "an API key of the gateway" },
  judgeBaseUrl: { flag: "judge-base-url", env: "EVAL_JUDGE_BASE_URL", help: "OpenAI-compatible base URL of the judge, up to /v1 (default: the gateway's /v1)" },
  judgeApiKey: { flag: "judge-api-key", env: "EVAL_JUDGE_API_KEY", help: "the judge's API key (default: --api-key)" },
  judgeModel: { flag: "judge-model", env: "EVAL_JUDGE_MODEL", help: "the judge model, e.g. gpt-4o (GPT-4-class in production)" },
  mode: { flag: "mode", env: "EVAL_MODE", help: "single (1-10 per turn) or pairwise (two answers, both orders)", default: "single" },
  baseline: { flag: "baseline", env: "EVAL_BASELINE", help: "pairwise: compare each model with this one (default: all pairs)" },
  out: { flag: "out", env: "EVAL_OUT", help: "run directory: answers and verdicts are kept there, so running again resumes", default: "eval-runs/latest" },
  concurrency: { flag: "concurrency", env: "EVAL_CONCURRENCY", help: "requests in flight at once (answers, then judge calls)", default: "4" },
  maxTokens: { flag: "max-tokens", env: "EVAL_MAX_TOKENS", help: "longest answer per turn, in tokens", default: "1024" },
  limit: { flag: "limit", env: "EVAL_LIMIT", help: "only the first N questions (a quick run)" },
  judgeInputPrice: { flag: "judge-input-price", env: "EVAL_JUDGE_INPUT_PRICE", help: "US$ per million tokens the judge reads, for the cost tally", default: "0" },
  judgeOutputPrice: { flag: "judge-output-price", env: "EVAL_JUDGE_OUTPUT_PRICE", help: "US$ per million tokens the judge writes", default: "0" },
  record: { flag: "record", env: "EVAL_RECORD", help: "store the results in the gateway (POST /admin/evals; needs --admin-key)", boolean: true },
  adminKey: { flag: "admin-key", env: "ALTIPLANO_ADMIN_KEY", help: "an admin key, for --record" },
  help: { flag: "help", env: "", help: "show this text", boolean: true },
} satisfies Record<string, OptionSpec>;

const csv = (s: string) => s.split(",").map((x) => x.trim()).filter((x) => x !== "");
const price = z.coerce.number().min(0);

const Schema = z
  .object({
    models: z.string({ error: "is required" }).transform(csv).pipe(z.array(z.string()).min(1, "name at least one model")),
    questions: z.string(),
    gatewayUrl: z.url(),
    apiKey: z.string({ error: "is required (or set ALTIPLANO_API_KEY)" }).min(1),
    judgeBaseUrl: z.url().optional(),
    judgeApiKey: z.string().min(1).optional(),
    judgeModel: z.string({ error: "is required" }).min(1),
    mode: z.enum(["single", "pairwise"]),
    baseline: z.string().min(1).optional(),
    out: z.string().min(1),
    concurrency: z.coerce.number().int().min(1).max(64),
    maxTokens: z.coerce.number().int().min(1),
    limit: z.coerce.number().int().min(1).optional(),
    judgeInputPrice: price,
    judgeOutputPrice: price,
    record: z.stringbool().default(false),
    adminKey: z.string().min(1).optional(),
  })
  .superRefine((o, ctx) => {
    if (o.mode === "pairwise" && o.models.length + (o.baseline && !o.models.includes(o.baseline) ? 1 : 0) < 2) {
      ctx.addIssue({ code: "custom", path: ["models"], message: "pairwise needs at least two models (with --baseline)" });
    }
    if (o.baseline && o.mode !== "pairwise") ctx.addIssue({ code: "custom", path: ["baseline"], message: "only applies with --mode pairwise" });
    if (o.record && !o.adminKey) ctx.addIssue({ code: "custom", path: ["adminKey"], message: "is required with --record" });
  });
export type CliOptions = z.output<typeof Schema>;

export function helpText(): string {
  return cliHelpText({
    intro: [
      "MT-bench-style evaluation of models the gateway serves, judged by an LLM.",
      "",
      "Answers each question (one or two turns) with each model through the gateway, at MT-bench's",
      "category temperatures, then asks the judge (temperature 0) for a 1-10 rating per turn, or in",
      "pairwise mode for a verdict on each pair in both orders. Writes judgments.jsonl, results.json",
      "and report.md with SVG charts into --out; an interrupted run (Ctrl-C) resumes from there.",
    ],
    usage: "npm run eval -- --models A,B --judge-model MODEL [options]",
    specs: OPTION_SPECS,
  });
}

/** Flags over environment variables over defaults; throws OptionsError naming each bad option. */
export function parseOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliOptions | "help" {
  return parseCliOptions({ specs: OPTION_SPECS, schema: Schema, argv, env });
}
