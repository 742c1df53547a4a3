/**
 * An export run: walks `GET /admin/export/conversations` page by page, cleans and splits each
 * conversation (pipeline.ts) and appends the records to work files beside `--out`. After every
 * page it saves a checkpoint — the cursor, the work files' lengths, the dedupe keys and the
 * summary — so a run stopped at any moment resumes from its last whole page: the files are cut
 * back to the checkpoint, and no conversation is repeated or skipped. At the end the work files
 * become `--out` (and its `.test` sibling): JSON Lines as they are, or one JSON array.
 */
import { createReadStream } from "node:fs";
import { appendFile, open, readFile, rename, rm, stat, truncate, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { z } from "zod";
import { ExportModelListSchema, type ExportConversation, type ExportModel } from "../wire/export.js";
import type { ModelEntry } from "../workers/models/model-config.js";
import { createDedupeState, type FeedbackMode } from "./clean.js";
import { addToSummary, createSummary, processConversation, type Summary } from "./pipeline.js";
import type { ExportFormat } from "./sharegpt.js";
import { tokenCounterFor, type CountTokens } from "./split.js";

export interface ExportRunOptions {
  gatewayUrl: string;
  adminKey: string;
  /** `.jsonl` or `.json`; test records go to the same name with `.test` before the extension. */
  out: string;
  model?: string;
  /** Unix seconds, inclusive / exclusive. */
  since?: number;
  until?: number;
  feedback: FeedbackMode;
  maxTokens: number;
  testFraction: number;
  format: ExportFormat;
  minChars: number;
  blockList: readonly string[];
  pageSize: number;
  /** Continue from the checkpoint beside `out` instead of starting over. */
  resume: boolean;
}

export interface ExportHooks {
  /** Stops after the page under way (its records and checkpoint are kept). */
  signal?: AbortSignal;
  onPage?: (summary: Summary) => void;
}

export interface ExportOutcome {
  complete: boolean;
  summary: Summary;
  pages: number;
  files: string[];
}

/** A mistake in how the export was asked for, told to the user in one sentence. */
export class ExportError extends Error {}

const Checkpoint = z.object({
  cursor: z.string().nullable(),
  /** Bytes of each work file at the checkpoint. */
  lengths: z.object({ train: z.number(), test: z.number() }),
  seen: z.array(z.string()),
  summary: z.custom<Summary>((v) => typeof v === "object" && v !== null),
  /** The options that shape the output: a resume with different ones would mix two exports. */
  fingerprint: z.string(),
});
type Checkpoint = z.infer<typeof Checkpoint>;

const ConversationLine = z.object({ object: z.literal("export.conversation") }).loose();
const CursorLine = z.object({ object: z.literal("export.cursor"), next: z.string().nullable(), count: z.number() });

/** `data.jsonl` → `data.test.jsonl`; `data.json` → `data.test.json`. */
export function testFileOf(out: string): string {
  const dot = out.lastIndexOf(".");
  return `${out.slice(0, dot)}.test${out.slice(dot)}`;
}

function workFiles(out: string) {
  return { train: `${out}.part`, test: `${testFileOf(out)}.part`, checkpoint: `${out}.checkpoint.json` };
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** A MODELS-like entry from the gateway's description, enough for the token counter. */
function entryOf(model: ExportModel): ModelEntry {
  // Built from the gateway's own checked config; the fields the counter does not read are placeholders.
  if (model.kind === "pool") {
    return { id: model.id, template: model.template, tokenizer: model.tokenizer ?? undefined, contextLength: model.context_length, defaultMaxTokens: 1 } as ModelEntry;
  }
  return { id: model.id, provider: "openai-compatible", baseUrl: "http://unused.invalid", apiKeySecret: "UNUSED", contextLength: model.context_length, defaultMaxTokens: 1, tokenizer: model.tokenizer ?? undefined } as ModelEntry;
}

async function admin(options: ExportRunOptions, path: string): Promise<Response> {
  const res = await fetch(`${options.gatewayUrl.replace(/\/+$/, "")}${path}`, { headers: { authorization: `Bearer ${options.adminKey}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res;
}

/** Lines of one NDJSON page, parsed as they arrive. */
async function* pageLines(res: Response): AsyncGenerator<unknown> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (value) buffer += value;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim() !== "") yield JSON.parse(line);
    }
    if (done) break;
  }
  if (buffer.trim() !== "") yield JSON.parse(buffer);
}

/** Turns a finished work file into the output: renamed as it is, or wrapped into one JSON array. */
async function finish(part: string, target: string, asArray: boolean): Promise<void> {
  if (!asArray) {
    await rename(part, target);
    return;
  }
  const handle = await open(target, "w");
  try {
    await handle.write("[");
    let first = true;
    const lines = createInterface({ input: createReadStream(part, "utf8"), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line === "") continue;
      await handle.write(`${first ? "\n" : ",\n"}${line}`);
      first = false;
    }
    await handle.write(first ? "]\n" : "\n]\n");
  } finally {
    await handle.close();
  }
  await rm(part);
}

export async function runExport(options: ExportRunOptions, hooks: ExportHooks = {}): Promise<ExportOutcome> {
  const files = workFiles(options.out);
  const fingerprint = JSON.stringify([options.model, options.since, options.until, options.feedback, options.maxTokens, options.testFraction, options.format, options.minChars, options.blockList]);
  let checkpoint: Checkpoint;
  if (options.resume) {
    const saved = await readFile(files.checkpoint, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") throw new ExportError(`--resume: no interrupted export of ${options.out} to continue (its checkpoint ${files.checkpoint} is not there); run without --resume`);
      throw err;
    });
    checkpoint = Checkpoint.parse(JSON.parse(saved));
    if (checkpoint.fingerprint !== fingerprint) throw new ExportError("--resume with different options than the interrupted export; run it with the same ones, or start over without --resume");
    // Records written after the last checkpoint belong to a page that will be read again.
    for (const part of ["train", "test"] as const) if ((await sizeOf(files[part])) > checkpoint.lengths[part]) await truncate(files[part], checkpoint.lengths[part]);
  } else {
    for (const file of Object.values(files)) await rm(file, { force: true });
    checkpoint = { cursor: null, lengths: { train: 0, test: 0 }, seen: [], summary: createSummary(), fingerprint };
  }
  const summary = checkpoint.summary;
  const dedupe = createDedupeState();
  for (const key of checkpoint.seen) dedupe.seen.add(key);

  const models = ExportModelListSchema.parse(await (await admin(options, "/admin/export/models")).json()).data;
  const counters = new Map<string, CountTokens>(models.map((m) => [m.id, tokenCounterFor(entryOf(m))]));
  const query = new URLSearchParams({ limit: String(options.pageSize) });
  if (options.model) query.set("model", options.model);
  if (options.since !== undefined) query.set("since", String(options.since));
  if (options.until !== undefined) query.set("until", String(options.until));

  let cursor = checkpoint.cursor;
  let pages = 0;
  let more = true;
  while (more && !hooks.signal?.aborted) {
    if (cursor !== null) query.set("after", cursor);
    const res = await admin(options, `/admin/export/conversations?${query}`);
    const out = { train: [] as string[], test: [] as string[] };
    let next: string | null | undefined;
    for await (const line of pageLines(res)) {
      if (ConversationLine.safeParse(line).success) {
        // Written by the gateway from wire/export.ts's type.
        const conversation = line as ExportConversation;
        const countTokens = counters.get(conversation.model);
        if (!countTokens) throw new Error(`the gateway no longer serves ${conversation.model}; cannot count its tokens`);
        const result = processConversation(
          conversation,
          { maxTokens: options.maxTokens, countTokens, format: options.format, feedback: options.feedback, testFraction: options.testFraction, minChars: options.minChars, blockList: options.blockList },
          dedupe,
        );
        addToSummary(summary, result);
        for (const record of result.records) out[result.split].push(`${JSON.stringify(record)}\n`);
        continue;
      }
      next = CursorLine.parse(line).next;
    }
    // A page without its cursor line was cut short: nothing of it is kept.
    if (next === undefined) throw new Error("an export page ended before its cursor line; run again with --resume");
    for (const part of ["train", "test"] as const) if (out[part].length > 0) await appendFile(files[part], out[part].join(""));
    cursor = next;
    more = next !== null;
    pages++;
    const saved: Checkpoint = { cursor, lengths: { train: await sizeOf(files.train), test: await sizeOf(files.test) }, seen: [...dedupe.seen], summary, fingerprint };
    await writeFile(files.checkpoint, JSON.stringify(saved));
    hooks.onPage?.(summary);
  }
  if (more) return { complete: false, summary, pages, files: [] };

  const asArray = options.out.endsWith(".json");
  const written = [options.out];
  await finish(files.train, options.out, asArray).catch(async (err: unknown) => {
    // No record at all: an empty output rather than a missing one.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    await writeFile(options.out, asArray ? "[]\n" : "");
  });
  if (options.testFraction > 0) {
    const testOut = testFileOf(options.out);
    written.push(testOut);
    await finish(files.test, testOut, asArray).catch(async (err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      await writeFile(testOut, asArray ? "[]\n" : "");
    });
  }
  await rm(files.test, { force: true });
  await rm(files.checkpoint, { force: true });
  return { complete: true, summary, pages, files: written };
}
