/**
 * `npm run export`: consented conversations out of the gateway as cleaned training data (see
 * run.ts and pipeline.ts). Ctrl-C stops after the page under way; `--resume` continues.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { helpText, OptionsError, parseCliOptions, type OptionSpec } from "../scripts/cli-options.js";
import { FEEDBACK_MODES } from "./clean.js";
import type { Summary } from "./pipeline.js";
import { EXPORT_FORMATS } from "./sharegpt.js";
import { ExportError, runExport } from "./run.js";

const SPECS = {
  out: { flag: "out", env: "EXPORT_OUT", help: "the file to write: .jsonl (one record a line) or .json (one array)" },
  gatewayUrl: { flag: "gateway-url", env: "EXPORT_GATEWAY_URL", help: "the gateway", default: "http://127.0.0.1:8787" },
  adminKey: { flag: "admin-key", env: "ALTIPLANO_ADMIN_KEY", help: "an admin key of the gateway" },
  model: { flag: "model", env: "EXPORT_MODEL", help: "only conversations with this model" },
  since: { flag: "since", env: "EXPORT_SINCE", help: "only conversations created at or after this date (2026-11-01 or Unix seconds)" },
  until: { flag: "until", env: "EXPORT_UNTIL", help: "only conversations created before this date" },
  minFeedback: { flag: "min-feedback", env: "EXPORT_MIN_FEEDBACK", help: "any | not-down (no reply thumbed down more than up) | up (every reply thumbed up more than down)", default: "any" },
  maxTokens: { flag: "max-tokens", env: "EXPORT_MAX_TOKENS", help: "training window: segments are split to fit it, counted with the model's own template and tokenizer", default: "2048" },
  splitTest: { flag: "split-test", env: "EXPORT_SPLIT_TEST", help: "share of conversations written to the .test file (deterministic by conversation id)", default: "0" },
  format: { flag: "format", env: "EXPORT_FORMAT", help: "sharegpt (FastChat, LLaMA-Factory, Axolotl) | openai (chat messages)", default: "sharegpt" },
  minChars: { flag: "min-chars", env: "EXPORT_MIN_CHARS", help: "drop conversations with fewer characters than this", default: "20" },
  blockList: { flag: "block-list", env: "EXPORT_BLOCK_LIST", help: "a file of phrases, one a line: a conversation containing one is dropped" },
  pageSize: { flag: "page-size", env: "EXPORT_PAGE_SIZE", help: "conversations per request to the gateway", default: "100" },
  resume: { flag: "resume", env: "", help: "continue an interrupted export of the same --out and options", boolean: true },
  help: { flag: "help", env: "", help: "show this text", boolean: true },
} satisfies Record<string, OptionSpec>;

/** A date (YYYY-MM-DD, UTC midnight) or Unix seconds, as Unix seconds. */
const When = z.string().transform((text, ctx) => {
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: "is not a date (2026-11-01) or Unix seconds" });
    return z.NEVER;
  }
  return Math.floor(ms / 1000);
});

const Schema = z.object({
  out: z.string({ error: "is required" }).regex(/\.jsonl?$/, "must end in .jsonl or .json"),
  gatewayUrl: z.url(),
  adminKey: z.string({ error: "is required (or set ALTIPLANO_ADMIN_KEY)" }).min(1),
  model: z.string().min(1).optional(),
  since: When.optional(),
  until: When.optional(),
  minFeedback: z.enum(FEEDBACK_MODES),
  maxTokens: z.coerce.number().int().min(16),
  splitTest: z.coerce.number().min(0).max(1),
  format: z.enum(EXPORT_FORMATS),
  minChars: z.coerce.number().int().min(0),
  blockList: z.string().optional(),
  pageSize: z.coerce.number().int().min(1).max(500),
  resume: z.stringbool().default(false),
});

function summaryText(s: Summary): string {
  const dropped = Object.entries(s.droppedByReason).filter(([, n]) => n > 0).map(([why, n]) => `${why} ${n}`).join(", ") || "none";
  const scrubbed = Object.entries(s.scrub).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${n}`).join(", ") || "none";
  return [
    `conversations read ${s.conversationsRead} (all consented), kept ${s.conversationsKept}`,
    `dropped: ${dropped}`,
    `pairs kept ${s.pairsKept}, pairs longer than the window dropped ${s.pairsTooLong}, messages cut ${s.messagesDropped}`,
    `segments written ${s.segmentsWritten.train} train, ${s.segmentsWritten.test} test; tokens written ${s.tokensWritten}`,
    `personal data replaced: ${scrubbed}`,
  ].join("\n");
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseCliOptions({ specs: SPECS, schema: Schema, argv: process.argv.slice(2), env: process.env });
  } catch (err) {
    if (!(err instanceof OptionsError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(
      helpText({
        intro: [
          "Exports consented conversations as cleaned training data (ShareGPT by default).",
          "",
          "Only conversations with training consent; replies that were cancelled or failed are cut with",
          "their question; HTML becomes Markdown; e-mails, phone numbers, secrets, IP addresses and Discord",
          "mentions become placeholders; duplicates, short and block-listed conversations are dropped; long",
          "ones are split to --max-tokens with the model's own template. Ctrl-C stops after the current",
          "page; --resume continues without repeating or skipping a conversation.",
        ],
        usage: "npm run export -- --out data.jsonl [options]",
        specs: SPECS,
      }),
    );
    return 0;
  }
  const blockList = options.blockList ? (await readFile(options.blockList, "utf8")).split("\n").map((l) => l.trim()).filter((l) => l !== "") : [];
  const controller = new AbortController();
  let interrupts = 0;
  process.on("SIGINT", () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write("\nstopping after this page (Ctrl-C again to quit now)\n");
    controller.abort();
  });
  const started = Date.now();
  const tty = process.stderr.isTTY;
  const outcome = await runExport(
    {
      gatewayUrl: options.gatewayUrl,
      adminKey: options.adminKey,
      out: options.out,
      model: options.model,
      since: options.since,
      until: options.until,
      feedback: options.minFeedback,
      maxTokens: options.maxTokens,
      testFraction: options.splitTest,
      format: options.format,
      minChars: options.minChars,
      blockList,
      pageSize: options.pageSize,
      resume: options.resume,
    },
    {
      signal: controller.signal,
      onPage: (s) => {
        const seconds = (Date.now() - started) / 1000;
        const line = `exported ${s.conversationsRead} conversations (${(s.conversationsRead / Math.max(seconds, 0.001)).toFixed(0)}/s) · kept ${s.conversationsKept} · segments ${s.segmentsWritten.train + s.segmentsWritten.test} · ${seconds.toFixed(1)} s`;
        process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
      },
    },
  );
  if (tty) process.stderr.write("\n");
  if (!outcome.complete) {
    process.stderr.write(`interrupted after ${outcome.pages} pages; continue with the same command and --resume\n`);
    return 130;
  }
  process.stderr.write(`${summaryText(outcome.summary)}\nwrote ${outcome.files.join(" and ")} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return 0;
}

process.exitCode = await main().catch((err: unknown) => {
  if (!(err instanceof ExportError)) throw err;
  process.stderr.write(`${err.message}\n`);
  return 2;
});
